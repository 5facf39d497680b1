"""Converse and ConverseStream requests with every option: the exact JSON, in the shapes of
bedrock-runtime's service model (ConverseRequest: CachePointBlock, ToolConfiguration,
GuardrailStreamConfiguration, PerformanceConfiguration, ServiceTier), and botocore's own
parameter validation on the installed model for every field that model knows."""

from __future__ import annotations

from typing import Any

import botocore.session
import botocore.validate
import pytest

from loadgen.backends.converse_request import converse_arguments
from loadgen.backends.request_options import UnsupportedOption, merged, reasoning_fields
from loadgen.engine.request import (
    CacheOption,
    GuardrailOption,
    Prompt,
    ReasoningOption,
    Request,
    RequestOptions,
    ToolOption,
)
from tests.factories import WEATHER_TOOL as WEATHER

HISTORY = (
    {"role": "user", "content": [{"text": "Weather in Paris?"}]},
    {
        "role": "assistant",
        "content": [
            {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}}
        ],
    },
)
TOOL_RESULT = {"toolResult": {"toolUseId": "t1", "content": [{"text": "18 C, sunny"}]}}


def _request(
    options: RequestOptions, model: str = "us.anthropic.claude-sonnet-4-5-v1:0"
) -> Request:
    prompt = Prompt(
        "r",
        "You are terse.",
        "SHARED PREFIX. And now?",
        history=HISTORY,
        user_blocks=(TOOL_RESULT,),
        prefix_chars=14,
    )
    return Request(1, model, prompt, max_tokens=2048, temperature=1.0, options=options)


EVERYTHING = RequestOptions(
    cache=CacheOption(places=("system", "tools", "prefix", "conversation"), ttl="1h"),
    reasoning=ReasoningOption(budget_tokens=1024),
    tools=ToolOption(specs=(WEATHER,), choice="get_weather"),
    service_tier="priority",
    latency="optimized",
    guardrail=GuardrailOption("gr-123", "2", trace="enabled_full"),
    additional_fields={"top_k": 40, "thinking": {"display": "summarized"}},
)


def test_every_option_in_its_converse_field() -> None:
    point = {"cachePoint": {"type": "default", "ttl": "1h"}}
    assert converse_arguments(_request(EVERYTHING)) == {
        "modelId": "us.anthropic.claude-sonnet-4-5-v1:0",
        "messages": [
            HISTORY[0],
            {"role": "assistant", "content": [*HISTORY[1]["content"], point]},
            {
                "role": "user",
                "content": [
                    TOOL_RESULT,
                    {"text": "SHARED PREFIX."},
                    point,
                    {"text": " And now?"},
                ],
            },
        ],
        "inferenceConfig": {"maxTokens": 2048, "temperature": 1.0},
        "system": [{"text": "You are terse."}, point],
        "toolConfig": {
            "tools": [
                {
                    "toolSpec": {
                        "name": "get_weather",
                        "description": "The weather in a city.",
                        "inputSchema": {"json": WEATHER["input_schema"]},
                    }
                },
                point,
            ],
            "toolChoice": {"tool": {"name": "get_weather"}},
        },
        "additionalModelRequestFields": {
            "thinking": {"type": "enabled", "budget_tokens": 1024, "display": "summarized"},
            "top_k": 40,
        },
        "guardrailConfig": {
            "guardrailIdentifier": "gr-123",
            "guardrailVersion": "2",
            "trace": "enabled_full",
        },
        "performanceConfig": {"latency": "optimized"},
        "serviceTier": {"type": "priority"},
    }


def test_no_options_is_the_plain_request_of_before() -> None:
    request = Request(1, "m", Prompt("r", None, "hi"), max_tokens=5)
    assert converse_arguments(request) == {
        "modelId": "m",
        "messages": [{"role": "user", "content": [{"text": "hi"}]}],
        "inferenceConfig": {"maxTokens": 5},
    }


def test_the_history_given_is_never_changed() -> None:
    converse_arguments(_request(EVERYTHING))
    assert HISTORY[1]["content"][-1] == {
        "toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("auto", {"auto": {}}), ("any", {"any": {}}), ("lookup", {"tool": {"name": "lookup"}})],
)
def test_tool_choice_is_the_union_member(choice: str, expected: dict[str, Any]) -> None:
    options = RequestOptions(tools=ToolOption(specs=(WEATHER,), choice=choice))
    assert converse_arguments(_request(options))["toolConfig"]["toolChoice"] == expected


@pytest.mark.parametrize(
    ("model", "reasoning", "expected"),
    [
        (
            "global.anthropic.claude-opus-4-5-20251101-v1:0",
            ReasoningOption(budget_tokens=4000),
            {"thinking": {"type": "enabled", "budget_tokens": 4000}},
        ),
        (
            "us.amazon.nova-2-lite-v1:0",
            ReasoningOption(effort="medium"),
            {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "medium"}},
        ),
        ("openai.gpt-oss-120b-1:0", ReasoningOption(effort="high"), {"reasoning_effort": "high"}),
    ],
)
def test_reasoning_takes_each_familys_field(
    model: str, reasoning: ReasoningOption, expected: dict[str, Any]
) -> None:
    assert reasoning_fields(model, reasoning) == expected


@pytest.mark.parametrize(
    ("model", "reasoning"),
    [
        ("anthropic.claude-sonnet-4-5-v1:0", ReasoningOption(effort="low")),
        ("amazon.nova-2-lite-v1:0", ReasoningOption(budget_tokens=100)),
        ("meta.llama4-maverick-17b-instruct-v1:0", ReasoningOption(effort="low")),
        (
            "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123",
            ReasoningOption(budget_tokens=1024),
        ),
    ],
)
def test_reasoning_a_model_cannot_take_is_refused_before_sending(
    model: str, reasoning: ReasoningOption
) -> None:
    with pytest.raises(UnsupportedOption):
        converse_arguments(_request(RequestOptions(reasoning=reasoning), model))


def test_a_prefix_as_long_as_the_text_ends_the_message_with_its_cache_point() -> None:
    prompt = Prompt("r", None, "all shared", prefix_chars=10)
    request = Request(1, "m", prompt, 5, options=RequestOptions(cache=CacheOption(("prefix",))))
    assert converse_arguments(request)["messages"][-1]["content"] == [
        {"text": "all shared"},
        {"cachePoint": {"type": "default"}},
    ]


def test_merged_keeps_nested_keys_the_extra_fields_leave_alone() -> None:
    base = {"inferenceConfig": {"maxTokens": 5}, "a": 1}
    assert merged(base, {"inferenceConfig": {"topK": 3}, "a": 2}) == {
        "inferenceConfig": {"maxTokens": 5, "topK": 3},
        "a": 2,
    }


@pytest.mark.parametrize("operation", ["Converse", "ConverseStream"])
def test_the_installed_botocore_accepts_every_field_its_model_knows(operation: str) -> None:
    # Its model predates serviceTier and CachePointBlock.ttl: those go by the signed path.
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    options = RequestOptions(
        cache=CacheOption(places=("system", "tools", "prefix", "conversation")),
        reasoning=ReasoningOption(budget_tokens=1024),
        tools=ToolOption(specs=(WEATHER,), choice="any"),
        latency="optimized",
        guardrail=GuardrailOption("gr-123", "DRAFT", trace="enabled"),
    )
    report = botocore.validate.ParamValidator().validate(
        converse_arguments(_request(options)), model.operation_model(operation).input_shape
    )
    assert not report.has_errors(), report.generate_report()
