"""Request options as OpenAI chat-completions fields, the history as chat messages (tool calls
and tool results in OpenAI's shape), and what the chat API cannot carry."""

from __future__ import annotations

import pytest

from loadgen.backends.openai_chat import chat_messages, chat_options
from loadgen.backends.request_options import UnsupportedOption
from loadgen.engine.request import (
    CacheOption,
    GuardrailOption,
    Prompt,
    ReasoningOption,
    Request,
    RequestOptions,
    ToolOption,
)

WEATHER = {"name": "get_weather", "description": "d", "input_schema": {"type": "object"}}
HISTORY = (
    {"role": "user", "content": [{"text": "Weather?"}]},
    {
        "role": "assistant",
        "content": [{"toolUse": {"toolUseId": "c1", "name": "get_weather", "input": {"c": 1}}}],
    },
)
RESULT = {"toolResult": {"toolUseId": "c1", "content": [{"text": "sunny"}]}}


def _request(options: RequestOptions) -> Request:
    prompt = Prompt("r", "sys", "and now?", history=HISTORY, user_blocks=(RESULT,))
    return Request(1, "gpt-oss", prompt, 10, options=options)


def test_history_and_tool_results_as_chat_messages() -> None:
    assert chat_messages(_request(RequestOptions())) == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "Weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"c": 1}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
        {"role": "user", "content": "and now?"},
    ]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("auto", "auto"),
        ("any", "required"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
    ],
)
def test_tools_reasoning_and_tier_fields(choice: str, expected: object) -> None:
    options = RequestOptions(
        tools=ToolOption(specs=(WEATHER,), choice=choice),
        reasoning=ReasoningOption(effort="low"),
        service_tier="flex",
        cache=CacheOption(("system",)),  # no chat field: left out
    )
    assert chat_options(_request(options)) == {
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "d",
                    "parameters": {"type": "object"},
                },
            }
        ],
        "tool_choice": expected,
        "reasoning_effort": "low",
        "service_tier": "flex",
    }


@pytest.mark.parametrize(
    "options",
    [
        RequestOptions(reasoning=ReasoningOption(budget_tokens=100)),
        RequestOptions(service_tier="reserved"),
        RequestOptions(latency="optimized"),
        RequestOptions(guardrail=GuardrailOption("g", "1")),
    ],
)
def test_what_the_chat_api_has_no_field_for_is_refused(options: RequestOptions) -> None:
    with pytest.raises(UnsupportedOption):
        chat_options(_request(options))
