"""InvokeModel and InvokeModelWithResponseStream: POST /model/{modelId}/invoke and
.../invoke-with-response-stream, with the model's native body (see native.py).

The stream is event-stream `chunk` events whose JSON payload is {"bytes": base64(native
event JSON)}; the last chunk's native event also carries amazon-bedrock-invocationMetrics
{inputTokenCount, outputTokenCount, invocationLatency, firstByteLatency}. The latency setting
travels in the X-Amzn-Bedrock-PerformanceConfig-Latency header both ways.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from loadgen.emulator.apis.base import Timing, json_bytes, json_object
from loadgen.emulator.apis.native import ANTHROPIC, NOVA, NativeFamily, family_for
from loadgen.emulator.eventstream import event_frame, exception_frame
from loadgen.emulator.plan import ParsedRequest, ResponsePlan
from loadgen.emulator.profiles import CROSS_REGION_PREFIXES, FaultKind
from loadgen.emulator.wire import EVENTSTREAM_CONTENT_TYPE, STREAM_EXCEPTIONS, error_response

PERFORMANCE_HEADER = "X-Amzn-Bedrock-PerformanceConfig-Latency"


def base_model_id(model_id: str) -> str:
    for prefix in CROSS_REGION_PREFIXES:
        if model_id.startswith(prefix):
            return model_id.removeprefix(prefix)
    return model_id


def _performance(plan: ResponsePlan) -> str:
    return "optimized" if plan.latency_optimized else "standard"


class InvokeApi:
    def __init__(self, stream: bool) -> None:
        self.stream = stream
        self.name = "invoke-with-response-stream" if stream else "invoke"

    def parse(self, body: bytes, model_id: str | None, headers: Mapping[str, str]) -> ParsedRequest:
        data = json_object(body)
        family = family_for(base_model_id(model_id or ""), data)
        prompt, tokens, limit = family.read(data)
        return ParsedRequest(
            model_id=model_id or "",
            prompt=prompt,
            input_tokens=tokens,
            max_tokens=limit,
            latency_optimized=headers.get(PERFORMANCE_HEADER, "").lower() == "optimized",
            stream=self.stream,
            native=family.name,
        )

    def error(self, status: int, code: str, message: str, request_id: str) -> web.Response:
        return error_response(status, code, message, request_id)

    def streamer(self, request: ParsedRequest, plan: ResponsePlan) -> InvokeStreamEncoder | None:
        return InvokeStreamEncoder(request, plan) if self.stream else None

    def body(
        self, request: ParsedRequest, plan: ResponsePlan, timing: Timing
    ) -> tuple[bytes, dict[str, str]]:
        family = _family(request)
        headers = {
            "Content-Type": "application/json",
            "X-Amzn-Bedrock-Invocation-Latency": str(timing.latency_ms),
            "X-Amzn-Bedrock-Input-Token-Count": str(plan.input_tokens),
            "X-Amzn-Bedrock-Output-Token-Count": str(plan.output_tokens),
        }
        if request.latency_optimized:
            headers[PERFORMANCE_HEADER] = _performance(plan)
        return json_bytes(family.message(plan)), headers


def _family(request: ParsedRequest) -> NativeFamily:
    return ANTHROPIC if request.native == "anthropic" else NOVA


def _chunk(event: dict[str, Any], *, corrupt: bool = False) -> bytes:
    encoded = base64.b64encode(json_bytes(event)).decode("ascii")
    return event_frame("chunk", {"bytes": encoded}, corrupt_crc=corrupt)


class InvokeStreamEncoder:
    def __init__(self, request: ParsedRequest, plan: ResponsePlan) -> None:
        self.plan = plan
        self.family = _family(request)
        self.headers: dict[str, str] = {
            "Content-Type": EVENTSTREAM_CONTENT_TYPE,
            "X-Amzn-Bedrock-Content-Type": "application/json",
        }
        if request.latency_optimized:
            self.headers[PERFORMANCE_HEADER] = _performance(plan)

    def start(self) -> bytes:
        return b"".join(_chunk(event) for event in self.family.start_events(self.plan))

    def delta(self, text: str, *, corrupt: bool = False) -> bytes:
        return _chunk(self.family.delta_event(text), corrupt=corrupt)

    def end(self, timing: Timing) -> bytes:
        events = self.family.end_events(self.plan)
        events[-1] = {
            **events[-1],
            "amazon-bedrock-invocationMetrics": {
                "inputTokenCount": self.plan.input_tokens,
                "outputTokenCount": self.plan.output_tokens,
                "invocationLatency": timing.latency_ms,
                "firstByteLatency": timing.first_byte_ms
                if timing.first_byte_ms is not None
                else timing.latency_ms,
            },
        }
        return b"".join(_chunk(event) for event in events)

    def exception(self, fault: FaultKind) -> bytes:
        return exception_frame(*STREAM_EXCEPTIONS[fault])
