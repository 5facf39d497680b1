"""Native InvokeModel bodies: which family a model id is, what is sent, what is read back."""

from __future__ import annotations

import json
from typing import Any

import pytest

from loadgen.backends.invoke_bodies import (
    INVOCATION_METRICS,
    ModelFamily,
    StreamState,
    model_family,
    read_chunk,
    read_response,
    request_body,
)
from loadgen.engine.backend import Timeline
from loadgen.engine.request import Prompt, Request

REQUEST = Request(
    request_id=1,
    model="m",
    prompt=Prompt(row_id="r", system="Be brief.", user="Summarise this."),
    max_tokens=64,
    temperature=0.2,
    top_p=0.9,
)
METRICS = {
    "inputTokenCount": 12,
    "outputTokenCount": 3,
    "invocationLatency": 456,
    "firstByteLatency": 123,
}


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("anthropic.claude-3-5-haiku-20241022-v1:0", ModelFamily.ANTHROPIC),
        ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", ModelFamily.ANTHROPIC),
        ("global.anthropic.claude-sonnet-4-20250514-v1:0", ModelFamily.ANTHROPIC),
        ("apac.amazon.nova-pro-v1:0", ModelFamily.NOVA),
        ("eu.amazon.nova-lite-v1:0", ModelFamily.NOVA),
        ("amazon.nova-micro-v1:0", ModelFamily.NOVA),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-premier-v1:0",
            ModelFamily.NOVA,
        ),
        ("amazon.titan-text-express-v1", None),
        ("meta.llama3-70b-instruct-v1:0", None),
        ("us.meta.llama3-2-90b-instruct-v1:0", None),
    ],
)
def test_family_from_model_id(model: str, family: ModelFamily | None) -> None:
    assert model_family(model) is family


def test_anthropic_messages_body() -> None:
    body = request_body(ModelFamily.ANTHROPIC, REQUEST)
    assert body == {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 64,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Summarise this."}]}],
        "temperature": 0.2,
        "top_p": 0.9,
    }


def test_nova_body() -> None:
    body = request_body(ModelFamily.NOVA, REQUEST)
    assert body == {
        "schemaVersion": "messages-v1",
        "system": [{"text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"text": "Summarise this."}]}],
        "inferenceConfig": {"maxTokens": 64, "temperature": 0.2, "topP": 0.9},
    }
    json.dumps(body)  # what goes on the wire


def test_anthropic_response_usage() -> None:
    timeline = Timeline()
    complete = read_response(
        ModelFamily.ANTHROPIC,
        {
            "type": "message",
            "content": [{"type": "text", "text": "ok"}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 12, "output_tokens": 7, "cache_read_input_tokens": 4},
        },
        timeline,
    )
    assert complete
    assert (timeline.input_tokens, timeline.output_tokens) == (12, 7)
    assert timeline.cache_read_tokens == 4
    assert timeline.stop_reason == "end_turn"


def test_nova_response_usage_and_incomplete_body() -> None:
    timeline = Timeline()
    body: dict[str, Any] = {
        "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
        "stopReason": "max_tokens",
        "usage": {"inputTokens": 9, "outputTokens": 64, "totalTokens": 73},
    }
    assert read_response(ModelFamily.NOVA, body, timeline)
    assert (timeline.input_tokens, timeline.output_tokens) == (9, 64)
    assert timeline.stop_reason == "max_tokens"
    assert not read_response(ModelFamily.NOVA, {"stopReason": "end_turn"}, Timeline())


def test_anthropic_stream_tokens_and_server_timings() -> None:
    chunks: list[dict[str, Any]] = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 12, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}},
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "Hel"}},
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": ""}},
        {"type": "content_block_delta", "delta": {"type": "text_delta", "text": "lo"}},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 3},
        },
        {"type": "message_stop", INVOCATION_METRICS: METRICS},
    ]
    state, timeline = StreamState(ModelFamily.ANTHROPIC), Timeline()
    for chunk in chunks:
        read_chunk(state, chunk, timeline)
    assert len(timeline.delta_ns) == 2  # the empty delta is not content
    assert (timeline.input_tokens, timeline.output_tokens) == (12, 3)
    assert (timeline.server_latency_ms, timeline.server_first_byte_ms) == (456, 123)
    assert timeline.stop_reason == "end_turn"
    assert state.missing() == []


def test_nova_stream_and_what_a_cut_stream_lacks() -> None:
    chunks: list[dict[str, Any]] = [
        {"messageStart": {"role": "assistant"}},
        {"contentBlockDelta": {"delta": {"text": "Hi"}, "contentBlockIndex": 0}},
        {"contentBlockStop": {"contentBlockIndex": 0}},
        {"messageStop": {"stopReason": "end_turn"}},
        {"metadata": {"usage": {"inputTokens": 5, "outputTokens": 1}}, INVOCATION_METRICS: METRICS},
    ]
    state, timeline = StreamState(ModelFamily.NOVA), Timeline()
    for chunk in chunks:
        read_chunk(state, chunk, timeline)
    assert (timeline.input_tokens, timeline.output_tokens) == (5, 1)
    assert timeline.server_latency_ms == 456
    assert state.missing() == []
    cut = StreamState(ModelFamily.NOVA)
    for chunk in chunks[:3]:
        read_chunk(cut, chunk, Timeline())
    assert cut.missing() == ["messageStop", "metadata", INVOCATION_METRICS]


def test_invocation_metrics_fill_usage_the_body_left_out() -> None:
    state, timeline = StreamState(ModelFamily.NOVA), Timeline()
    read_chunk(
        state, {"messageStop": {"stopReason": "end_turn"}, INVOCATION_METRICS: METRICS}, timeline
    )
    assert (timeline.input_tokens, timeline.output_tokens) == (12, 3)
