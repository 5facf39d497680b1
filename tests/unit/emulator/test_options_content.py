"""Each API's parser reads the request options from the shapes Bedrock (and OpenAI) define:
cache points, reasoning, tools and tool choice, tool results, service tier, guardrail; input
tokens count all the text of tools, system and history; a plain request reads as before."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from loadgen.emulator.apis.base import prompt_of
from loadgen.emulator.apis.converse import ConverseApi
from loadgen.emulator.apis.invoke import InvokeApi
from loadgen.emulator.apis.openai_chat import OpenAIChatApi
from loadgen.emulator.request_options import NO_OPTIONS, GuardrailAsk, Reasoning

SYSTEM = "You answer parcel questions. " * 40
SCHEMA = {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}


def _converse(body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return ConverseApi(stream=True).parse(json.dumps(body).encode(), "us.m-v1:0", headers or {})


def test_a_plain_converse_request_reads_as_before() -> None:
    body = {
        "system": [{"text": SYSTEM}],
        "messages": [{"role": "user", "content": [{"text": "Where is it?"}]}],
    }
    parsed = _converse(body)
    assert (parsed.prompt, parsed.input_tokens) == prompt_of(body["system"], body["messages"])
    assert parsed.options == NO_OPTIONS


def test_converse_options() -> None:
    body = {
        "system": [{"text": SYSTEM}, {"cachePoint": {"type": "default", "ttl": "1h"}}],
        "messages": [
            {"role": "user", "content": [{"text": "Track parcel 7"}]},
            {
                "role": "assistant",
                "content": [
                    {"toolUse": {"toolUseId": "t1", "name": "track", "input": {"id": "7"}}}
                ],
            },
            {
                "role": "user",
                "content": [
                    {"toolResult": {"toolUseId": "t1", "content": [{"text": "In Lyon"}]}},
                    {"cachePoint": {"type": "default"}},
                ],
            },
        ],
        "toolConfig": {
            "tools": [
                {"toolSpec": {"name": "track", "inputSchema": {"json": SCHEMA}}},
                {"cachePoint": {"type": "default"}},
            ],
            "toolChoice": {"tool": {"name": "track"}},
        },
        "additionalModelRequestFields": {
            "reasoningConfig": {"type": "enabled", "maxReasoningEffort": "high"}
        },
        "serviceTier": {"type": "flex"},
        "guardrailConfig": {
            "guardrailIdentifier": "g1",
            "guardrailVersion": "2",
            "trace": "enabled",
        },
    }
    options = _converse(body).options
    # Tools first, then system, then the messages: three growing prefixes.
    tokens = [point.tokens for point in options.cache_points]
    assert tokens == sorted(tokens) and len(set(tokens)) == 3
    assert [point.ttl_s for point in options.cache_points] == [300.0, 3600.0, 300.0]
    assert options.reasoning == Reasoning(effort="high")
    assert [tool.name for tool in options.tools] == ["track"]
    assert options.tools[0].schema == SCHEMA
    assert options.tool_choice == "track"
    assert options.answers_tool_result
    assert options.service_tier == "flex"
    assert options.guardrail == GuardrailAsk("g1", "2", trace=True)


def test_input_tokens_count_tools_and_tool_traffic() -> None:
    plain = {"messages": [{"role": "user", "content": [{"text": "x" * 400}]}]}
    with_tools = {
        **plain,
        "toolConfig": {"tools": [{"toolSpec": {"name": "track", "description": "d" * 400}}]},
    }
    assert _converse(with_tools).input_tokens > _converse(plain).input_tokens + 100
    # Tool traffic counts as input, not as prompt text the answer is drawn from.
    assert _converse(with_tools).prompt == _converse(plain).prompt


def test_an_unknown_tier_is_refused() -> None:
    with pytest.raises(ValueError, match="serviceTier"):
        _converse({"messages": [], "serviceTier": {"type": "gold"}})


def test_anthropic_body_and_invoke_headers() -> None:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 4000,
        "system": [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "Track 7"}],
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "tools": [{"name": "track", "input_schema": SCHEMA}],
        "tool_choice": {"type": "any"},
    }
    headers = {
        "X-Amzn-Bedrock-Service-Tier": "priority",
        "X-Amzn-Bedrock-GuardrailIdentifier": "g1",
        "X-Amzn-Bedrock-GuardrailVersion": "1",
        "X-Amzn-Bedrock-Trace": "ENABLED",
    }
    parsed = InvokeApi(stream=True).parse(json.dumps(body).encode(), "us.anthropic.m-v1:0", headers)
    options = parsed.options
    assert len(options.cache_points) == 1
    tools_and_system = len(json.dumps(SCHEMA, separators=(",", ":"))) + len("track") + len(SYSTEM)
    assert options.cache_points[0].tokens == math.ceil(tools_and_system / 4)
    assert options.reasoning == Reasoning(budget_tokens=2048)
    assert options.tool_choice == "any"
    assert options.service_tier == "priority"
    assert options.guardrail == GuardrailAsk("g1", "1", trace=True)


def test_a_plain_anthropic_body_has_no_options() -> None:
    body = {
        "anthropic_version": "x",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
    }
    parsed = InvokeApi(stream=False).parse(json.dumps(body).encode(), "anthropic.m-v1:0", {})
    assert parsed.options == NO_OPTIONS
    assert parsed.input_tokens == 1


def test_openai_options() -> None:
    body = {
        "model": "openai.gpt-oss-120b-1:0",
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "track", "arguments": "{}"},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "In Lyon"},
        ],
        "tools": [{"type": "function", "function": {"name": "track", "parameters": SCHEMA}}],
        "tool_choice": "required",
        "reasoning_effort": "medium",
        "service_tier": "priority",
    }
    options = OpenAIChatApi().parse(json.dumps(body).encode(), None, {}).options
    assert len(options.cache_points) == 1
    assert options.tool_choice == "any"
    assert options.answers_tool_result
    assert options.reasoning == Reasoning(effort="medium")
    assert options.service_tier == "priority"


@pytest.mark.parametrize(
    ("system", "content"),
    [
        ("A bare string system.", "A bare string message."),
        ([{"text": "a"}, {"text": "b"}], [{"text": "c"}, {"image": {}}]),
        (None, [{"text": "only the user"}]),
    ],
)
def test_converse_prompt_and_tokens_as_prompt_of(system: Any, content: Any) -> None:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": content}]}
    if system is not None:
        body["system"] = system
    parsed = _converse(body)
    assert (parsed.prompt, parsed.input_tokens) == prompt_of(system, body["messages"])
