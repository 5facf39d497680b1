"""Request options in InvokeModel's native bodies (Anthropic Messages, Nova messages-v1) and
headers (InvokeModelRequest's X-Amzn-Bedrock-* members), and the content kinds their streams
carry: reasoning (thinking_delta, signature_delta; Nova reasoningContent) and tool use."""

from __future__ import annotations

import pytest

from loadgen.backends.invoke_bodies import (
    ModelFamily,
    StreamState,
    invoke_headers,
    invoke_parameters,
    read_chunk,
    read_response,
    request_body,
)
from loadgen.backends.request_options import UnsupportedOption
from loadgen.engine.backend import Timeline
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
            {"text": "Looking."},
            {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}},
        ],
    },
)
TOOL_RESULT = {"toolResult": {"toolUseId": "t1", "content": [{"json": {"temp": 18}}]}}
PROMPT = Prompt(
    "r",
    "You are terse.",
    "SHARED PREFIX. And now?",
    history=HISTORY,
    user_blocks=(TOOL_RESULT,),
    prefix_chars=14,
)


def _request(model: str, options: RequestOptions) -> Request:
    return Request(1, model, PROMPT, max_tokens=2048, options=options)


def test_anthropic_body_with_every_option() -> None:
    options = RequestOptions(
        cache=CacheOption(places=("system", "tools", "prefix", "conversation"), ttl="1h"),
        reasoning=ReasoningOption(budget_tokens=1024),
        tools=ToolOption(specs=(WEATHER,), choice="any"),
        additional_fields={"top_k": 40},
    )
    control = {"type": "ephemeral", "ttl": "1h"}
    assert request_body(ModelFamily.ANTHROPIC, _request("anthropic.claude-x", options)) == {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 2048,
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Looking."},
                    {
                        "type": "tool_use",
                        "id": "t1",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                        "cache_control": control,
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": [{"type": "text", "text": '{"temp": 18}'}],
                    },
                    {"type": "text", "text": "SHARED PREFIX.", "cache_control": control},
                    {"type": "text", "text": " And now?"},
                ],
            },
        ],
        "system": [{"type": "text", "text": "You are terse.", "cache_control": control}],
        "tools": [{**WEATHER, "cache_control": control}],
        "tool_choice": {"type": "any"},
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "top_k": 40,
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("auto", {"type": "auto"}), ("get_weather", {"type": "tool", "name": "get_weather"})],
)
def test_anthropic_tool_choice(choice: str, expected: dict[str, str]) -> None:
    options = RequestOptions(tools=ToolOption(specs=(WEATHER,), choice=choice))
    body = request_body(ModelFamily.ANTHROPIC, _request("anthropic.claude-x", options))
    assert body["tool_choice"] == expected
    assert body["tools"] == [WEATHER]  # no cache point asked: no cache_control


def test_nova_body_with_every_option() -> None:
    options = RequestOptions(
        cache=CacheOption(places=("system", "tools", "prefix")),
        reasoning=ReasoningOption(effort="low"),
        tools=ToolOption(specs=(WEATHER,), choice="auto"),
        additional_fields={"inferenceConfig": {"topK": 20}},
    )
    point = {"cachePoint": {"type": "default"}}
    assert request_body(ModelFamily.NOVA, _request("us.amazon.nova-2-lite-v1:0", options)) == {
        "schemaVersion": "messages-v1",
        "messages": [
            *HISTORY,
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
        "inferenceConfig": {
            "maxTokens": 2048,
            "reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"},
            "topK": 20,
        },
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
            "toolChoice": {"auto": {}},
        },
    }


def test_tier_latency_and_guardrail_go_in_invoke_models_headers() -> None:
    options = RequestOptions(
        service_tier="flex",
        latency="optimized",
        guardrail=GuardrailOption("gr-1", "DRAFT", trace="enabled_full"),
    )
    parameters = invoke_parameters(_request("anthropic.claude-x", options))
    assert parameters == {
        "serviceTier": "flex",
        "performanceConfigLatency": "optimized",
        "guardrailIdentifier": "gr-1",
        "guardrailVersion": "DRAFT",
        "trace": "ENABLED_FULL",
    }
    assert invoke_headers(parameters) == {
        "X-Amzn-Bedrock-Service-Tier": "flex",
        "X-Amzn-Bedrock-PerformanceConfig-Latency": "optimized",
        "X-Amzn-Bedrock-GuardrailIdentifier": "gr-1",
        "X-Amzn-Bedrock-GuardrailVersion": "DRAFT",
        "X-Amzn-Bedrock-Trace": "ENABLED_FULL",
    }


def test_an_effort_for_claude_is_refused() -> None:
    options = RequestOptions(reasoning=ReasoningOption(effort="high"))
    with pytest.raises(UnsupportedOption):
        request_body(ModelFamily.ANTHROPIC, _request("anthropic.claude-x", options))


def test_anthropic_stream_marks_each_content_kind() -> None:
    timeline = Timeline()
    state = StreamState(ModelFamily.ANTHROPIC)
    chunks = [
        {"type": "content_block_start", "index": 0, "content_block": {"type": "thinking"}},
        {
            "type": "content_block_delta",
            "delta": {"type": "thinking_delta", "thinking": "abcdefgh"},
        },
        {"type": "content_block_delta", "delta": {"type": "signature_delta", "signature": "sig"}},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Hi"}},
        {
            "type": "content_block_start",
            "index": 2,
            "content_block": {"type": "tool_use", "id": "t", "name": "n", "input": {}},
        },
        {"type": "content_block_delta", "delta": {"type": "input_json_delta", "partial_json": "{"}},
    ]
    for chunk in chunks:
        read_chunk(state, chunk, timeline)
    assert timeline.first_reasoning_ns is not None
    assert timeline.first_token_ns == timeline.first_reasoning_ns
    assert timeline.first_reasoning_ns <= timeline.first_answer_ns <= timeline.first_tool_ns  # type: ignore[operator]
    assert len(timeline.delta_ns) == 5  # 2 reasoning, 1 text, the tool's start and its input
    assert timeline.reasoning_chars == 8  # the signature is not reasoning text


def test_nova_stream_marks_each_content_kind() -> None:
    timeline = Timeline()
    state = StreamState(ModelFamily.NOVA)
    chunks = [
        {"contentBlockDelta": {"delta": {"reasoningContent": {"text": "hmm"}}}},
        {"contentBlockStart": {"start": {"toolUse": {"toolUseId": "t", "name": "n"}}}},
        {"contentBlockDelta": {"delta": {"toolUse": {"input": "{}"}}}},
    ]
    for chunk in chunks:
        read_chunk(state, chunk, timeline)
    assert timeline.first_answer_ns is None
    assert timeline.first_token_ns == timeline.first_reasoning_ns
    assert timeline.first_tool_ns is not None
    assert timeline.reasoning_chars == 3


def test_a_whole_anthropic_answer_counts_its_thinking_for_the_estimate() -> None:
    timeline = Timeline()
    body = {
        "content": [{"type": "thinking", "thinking": "x" * 40}, {"type": "text", "text": "ok"}],
        "usage": {"input_tokens": 3, "output_tokens": 12},
        "stop_reason": "end_turn",
    }
    assert read_response(ModelFamily.ANTHROPIC, body, timeline)
    assert timeline.reasoning_chars == 40
