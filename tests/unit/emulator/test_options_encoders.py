"""The encoders write an answer with options in each API's shapes: Nova's native stream and
body, Anthropic's body, OpenAI's body; decoded from the bytes they write."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

import botocore.eventstream

from loadgen.emulator.apis.base import Timing
from loadgen.emulator.apis.invoke import InvokeApi
from loadgen.emulator.apis.openai_chat import OpenAIChatApi
from loadgen.emulator.options_plan import apply_options, option_rng
from loadgen.emulator.plan import ParsedRequest, ResponsePlan, draw_plan
from loadgen.emulator.profiles import Profile
from loadgen.emulator.request_options import GuardrailAsk, Reasoning, RequestOptions, ToolSpec

PROFILE = Profile(
    output_tokens=8, tokens_per_delta=2, reasoning_tokens=6, reasoning_tokens_jitter=0
)
TOOL = ToolSpec(
    "track", {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]}
)
OPTIONS = RequestOptions(
    reasoning=Reasoning(), tools=(TOOL,), tool_choice="track", service_tier="flex",
    guardrail=GuardrailAsk("g1", "1", trace=True),
)  # fmt: skip
TIMING = Timing(latency_ms=100, first_byte_ms=10)


def _plan(native: str) -> tuple[ParsedRequest, ResponsePlan]:
    request = ParsedRequest("m", "Track 7", 3, None, native=native, options=OPTIONS)
    plan = draw_plan(request, PROFILE, random.Random(1), "0b9e4a3c-0000-4000-8000-000000000000")
    return request, apply_options(plan, request, PROFILE, option_rng(1, 1))


def _chunks(data: bytes) -> list[dict[str, Any]]:
    buffer = botocore.eventstream.EventStreamBuffer()
    buffer.add_data(data)
    return [json.loads(base64.b64decode(json.loads(m.payload)["bytes"])) for m in buffer]


def test_nova_stream_blocks() -> None:
    request, plan = _plan("nova")
    encoder = InvokeApi(stream=True).streamer(request, plan)
    assert encoder is not None
    assert encoder.headers["X-Amzn-Bedrock-Service-Tier"] == "flex"
    data = encoder.start() + b"".join(encoder.delta(t, kind=k) for k, t in plan.pieces())
    events = _chunks(data + encoder.end(TIMING))
    names = [next(iter(event)) for event in events]
    assert names[0] == "messageStart" and names[-2:] == ["messageStop", "metadata"]
    starts = [e["contentBlockStart"] for e in events if "contentBlockStart" in e]
    assert starts == [
        {
            "contentBlockIndex": 1,
            "start": {"toolUse": {"toolUseId": plan.tool.tool_use_id, "name": "track"}},
        }
    ]  # type: ignore[union-attr]
    stops = [e["contentBlockStop"]["contentBlockIndex"] for e in events if "contentBlockStop" in e]
    assert stops == [0, 1]  # the reasoning block, then the tool's (toolChoice names it: no text)
    deltas = [e["contentBlockDelta"]["delta"] for e in events if "contentBlockDelta" in e]
    assert "signature" in deltas[len(plan.reasoning_texts)]["reasoningContent"]
    assert events[-1]["metadata"]["usage"]["outputTokens"] == plan.output_tokens
    assert plan.guardrail is not None
    action = "INTERVENED" if plan.guardrail.intervened else "NONE"
    assert events[-1]["amazon-bedrock-guardrailAction"] == action
    assert "guardrail" in events[-1]["metadata"]["trace"]
    assert events[-1]["amazon-bedrock-invocationMetrics"]["outputTokenCount"] == plan.output_tokens


def test_anthropic_body_blocks() -> None:
    request, plan = _plan("anthropic")
    body, headers = InvokeApi(stream=False).body(request, plan, TIMING)
    message = json.loads(body)
    assert [block["type"] for block in message["content"]] == ["thinking", "tool_use"]
    assert message["content"][1]["input"] == plan.tool.input  # type: ignore[union-attr]
    assert message["stop_reason"] == "tool_use"
    assert headers["X-Amzn-Bedrock-Service-Tier"] == "flex"


def test_openai_body_tool_call_and_reasoning() -> None:
    request, plan = _plan("")
    body, _ = OpenAIChatApi().body(request, plan, TIMING)
    payload = json.loads(body)
    message = payload["choices"][0]["message"]
    assert message["content"] is None and message["reasoning_content"]
    call = message["tool_calls"][0]
    assert (
        call["function"]["name"] == "track"
        and json.loads(call["function"]["arguments"]) == plan.tool.input
    )  # type: ignore[union-attr]
    assert payload["choices"][0]["finish_reason"] == "tool_calls"
    assert payload["service_tier"] == "flex"
    assert (
        payload["usage"]["completion_tokens_details"]["reasoning_tokens"] == plan.reasoning_tokens
    )
