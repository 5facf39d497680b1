"""A replayed request carries its logged options: performanceConfig.latency, serviceTier, the
cache points where the logged body had them (or after a synthetic prompt's shared prefix when
only cache token counts were logged), tools, reasoning, the conversation's turns, and
Converse's other additionalModelRequestFields when the call stays with its provider. Records
go through the reader, the selection and the planner as a replay's do; the Request objects
built are what the runner hands to a backend."""

from __future__ import annotations

import json
from typing import Any

from loadgen.config.replay_spec import ReplaySpec
from loadgen.engine.request import CacheOption, ReasoningOption, Request
from loadgen.replay.layouts import read_file
from loadgen.replay.planning import ReplayPrompts, plan_requests, planned_requests
from loadgen.replay.records import Skips
from loadgen.replay.selection import select

CLAUDE = "anthropic.claude-sonnet-4-20250514-v1:0"
NOVA = "amazon.nova-pro-v1:0"
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def logged(body: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """An invocation log record of a Converse call (as in AWS's example records)."""
    record: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": "2025-06-03T14:00:07Z",
        "operation": "Converse",
        "modelId": CLAUDE,
        "input": {"inputTokenCount": 300, **({"inputBodyJson": body} if body else {})},
        "output": {"outputTokenCount": 40},
    }
    for key, value in changes.items():
        if key in ("input", "output"):
            record[key] = {**record[key], **value}
        else:
            record[key] = value
    return record


def replayed(
    *records: dict[str, Any], api: str = "bedrock-converse-stream", **spec: Any
) -> list[Request]:
    """The requests a replay of these records plans (target.api: `api`), in order."""
    skips = Skips()
    data = "".join(json.dumps(record) + "\n" for record in records).encode()
    found = read_file("log.json", data, skips)
    assert not skips.records, skips.examples
    selection = select(found.records, ReplaySpec(source=["log"], **spec), 7, None, skips)
    requests = plan_requests(selection, 1.0, api, "logged", lambda _: True)
    plan = planned_requests(requests, ReplayPrompts(seed=7), [], first_id=0)
    return [planned.request for planned in plan]


def test_latency_and_service_tier_are_sent_as_logged() -> None:
    optimized, flex, plain = replayed(
        logged(performanceConfig={"latency": "optimized"}),
        logged(
            body={
                "messages": [{"role": "user", "content": [{"text": "hi"}]}],
                "serviceTier": {"type": "flex"},
            }
        ),
        logged(),
    )
    assert (optimized.options.latency, optimized.options.service_tier) == ("optimized", None)
    assert (flex.options.latency, flex.options.service_tier) == (None, "flex")
    assert plain.options.latency is None and plain.options.service_tier is None


def test_cache_points_go_where_the_logged_body_had_them() -> None:
    body = {
        "system": [{"text": "You are terse."}, {"cachePoint": {"type": "default", "ttl": "1h"}}],
        "messages": [
            {"role": "user", "content": [{"text": "Here is a long contract."}]},
            {
                "role": "assistant",
                "content": [{"text": "Read it."}, {"cachePoint": {"type": "default"}}],
            },
            {
                "role": "user",
                "content": [
                    {"text": "Shared notes."},
                    {"cachePoint": {"type": "default"}},
                    {"text": "What does clause 4 say?"},
                ],
            },
        ],
    }
    (request,) = replayed(logged(body=body))
    prompt = request.prompt
    assert prompt.system == "You are terse."
    assert [m["role"] for m in prompt.history] == ["user", "assistant"]
    assert prompt.history[1]["content"] == [{"text": "Read it."}]
    assert prompt.user == "Shared notes.\nWhat does clause 4 say?"
    assert prompt.user[: prompt.prefix_chars] == "Shared notes."
    assert request.options.cache == CacheOption(
        places=("system", "conversation", "prefix"), ttl="1h"
    )


def test_anthropic_cache_control_tools_and_thinking_of_a_native_body() -> None:
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 2000,
        "system": [{"type": "text", "text": "Plan trips.", "cache_control": {"type": "ephemeral"}}],
        "tools": [WEATHER_TOOL],
        "tool_choice": {"type": "tool", "name": "get_weather"},
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": [
            {"role": "user", "content": "Weather in Oslo?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "..."},
                    {
                        "type": "tool_use",
                        "id": "t1",
                        "name": "get_weather",
                        "input": {"city": "Oslo"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t1", "content": "4 C, rain"},
                    {"type": "text", "text": "Pack what?"},
                ],
            },
        ],
    }
    (request,) = replayed(logged(body=body, operation="InvokeModel"))
    assert request.api == "bedrock-invoke"
    options = request.options
    assert options.cache == CacheOption(places=("system",))
    assert options.tools is not None and options.tools.choice == "get_weather"
    assert [dict(spec) for spec in options.tools.specs] == [WEATHER_TOOL]
    assert options.reasoning == ReasoningOption(budget_tokens=1024)
    prompt = request.prompt
    assert prompt.history[1]["content"] == [
        {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Oslo"}}}
    ]
    assert prompt.user_blocks == (
        {"toolResult": {"toolUseId": "t1", "content": [{"text": "4 C, rain"}]}},
    )
    assert prompt.user == "Pack what?"


def test_converse_tools_reasoning_and_pass_through_fields() -> None:
    body = {
        "messages": [{"role": "user", "content": [{"text": "Weather in Oslo?"}]}],
        "toolConfig": {
            "tools": [
                {
                    "toolSpec": {
                        "name": "get_weather",
                        "description": "The weather in a city.",
                        "inputSchema": {"json": WEATHER_TOOL["input_schema"]},
                    }
                },
                {"cachePoint": {"type": "default"}},
            ],
            "toolChoice": {"any": {}},
        },
        "additionalModelRequestFields": {
            "reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"},
            "top_k": 40,
        },
    }
    record = logged(body=body, modelId=NOVA)
    (kept,) = replayed(record)
    assert kept.options.tools is not None and kept.options.tools.choice == "any"
    assert [dict(spec) for spec in kept.options.tools.specs] == [WEATHER_TOOL]
    assert kept.options.cache == CacheOption(places=("tools",))
    assert kept.options.reasoning == ReasoningOption(effort="low")
    assert kept.options.additional_fields == {"top_k": 40}
    # Sent to another provider's model: the reasoning effort and the fields are Nova's form,
    # which Claude refuses; tools and cache points are written in Claude's own.
    (mapped,) = replayed(record, map={"*": CLAUDE})
    assert mapped.model == CLAUDE
    assert mapped.options.additional_fields is None and mapped.options.reasoning is None
    assert mapped.options.tools == kept.options.tools
    assert mapped.options.cache == kept.options.cache
    # An inference profile of the same provider keeps them.
    (profile,) = replayed(record, map={"*": "us." + NOVA})
    assert profile.options.additional_fields == {"top_k": 40}


def test_logged_cache_counts_without_a_body_put_a_point_after_the_shared_prefix() -> None:
    cached = {"inputTokenCount": 50, "cacheReadInputTokenCount": 1000}
    first, second, uncached = replayed(
        logged(input=cached),
        logged(input={**cached, "cacheWriteInputTokenCount": 0}, timestamp="2025-06-03T14:00:08Z"),
        logged(timestamp="2025-06-03T14:00:09Z"),
    )
    assert first.options.cache == CacheOption(places=("prefix",))
    assert first.prompt.prefix_chars > 0
    # One prefix per model: the same text before the point in every cached prompt.
    shared = first.prompt.user[: first.prompt.prefix_chars]
    assert second.prompt.user[: second.prompt.prefix_chars] == shared
    assert first.prompt.user != second.prompt.user
    assert uncached.options.cache is None and uncached.prompt.prefix_chars == 0


def test_a_body_without_options_sends_none() -> None:
    body = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
    (request,) = replayed(logged(body=body))
    assert request.options.cache is None and request.options.tools is None
    assert request.options.additional_fields is None and request.prompt.history == ()


def test_an_openai_target_gets_what_the_chat_api_has_fields_for() -> None:
    body = {
        "messages": [{"role": "user", "content": [{"text": "Weather in Oslo?"}]}],
        "toolConfig": {"tools": [{"toolSpec": {"name": "get_weather", "inputSchema": {}}}]},
        "additionalModelRequestFields": {"thinking": {"type": "enabled", "budget_tokens": 2048}},
        "serviceTier": {"type": "reserved"},
    }
    record = logged(body=body, performanceConfig={"latency": "optimized"})
    (bedrock,) = replayed(record)
    (chat,) = replayed(record, api="openai-chat")
    assert chat.api == "openai-chat-nostream"  # the logged Converse, without a stream
    assert bedrock.options.latency == "optimized" and chat.options.latency is None
    assert bedrock.options.service_tier == "reserved" and chat.options.service_tier is None
    assert bedrock.options.reasoning == ReasoningOption(budget_tokens=2048)
    assert chat.options.reasoning is None
    assert chat.options.tools is not None and chat.options.tools.specs[0]["name"] == "get_weather"


def test_a_message_left_without_sendable_blocks_names_them() -> None:
    body = {
        "messages": [
            {"role": "user", "content": [{"image": {"format": "png"}}]},
            {"role": "assistant", "content": [{"text": "A cat."}]},
            {"role": "user", "content": [{"text": "What colour?"}]},
        ]
    }
    (request,) = replayed(logged(body=body))
    assert request.prompt.history[0] == {"role": "user", "content": [{"text": "[image]"}]}
    assert request.prompt.user == "What colour?"


def test_a_last_turn_of_blocks_not_sent_names_them_and_a_tool_result_turn_has_no_text() -> None:
    history = [
        {"role": "user", "content": [{"text": "Weather in Oslo?"}]},
        {
            "role": "assistant",
            "content": [{"toolUse": {"toolUseId": "t1", "name": "w", "input": {}}}],
        },
    ]
    image = {"messages": [*history, {"role": "user", "content": [{"document": {"name": "a"}}]}]}
    result = {"toolResult": {"toolUseId": "t1", "content": [{"text": "4 C"}]}}
    answered = {"messages": [*history, {"role": "user", "content": [result]}]}
    (named, tool_turn) = replayed(
        logged(body=image), logged(body=answered, timestamp="2025-06-03T14:00:08Z")
    )
    assert named.prompt.user == "[document]"
    assert tool_turn.prompt.user == "" and tool_turn.prompt.user_blocks == (result,)
