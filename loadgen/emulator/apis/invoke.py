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
from dataclasses import replace
from typing import Any

from aiohttp import web

from loadgen.emulator.apis.base import Timing, json_bytes, json_object
from loadgen.emulator.apis.blocks import served_tier
from loadgen.emulator.apis.native import ANTHROPIC, NOVA, NativeFamily, family_for
from loadgen.emulator.eventstream import event_frame
from loadgen.emulator.plan import DeltaKind, ParsedRequest, ResponsePlan
from loadgen.emulator.profiles import CROSS_REGION_PREFIXES, FaultKind
from loadgen.emulator.request_options import GuardrailAsk
from loadgen.emulator.wire import EVENTSTREAM_CONTENT_TYPE, error_response, stream_exception

PERFORMANCE_HEADER = "X-Amzn-Bedrock-PerformanceConfig-Latency"
# The request headers of InvokeModel's options (service model: InvokeModelRequest), and the
# response header naming the tier that served (InvokeModelResponse.serviceTier).
SERVICE_TIER_HEADER = "X-Amzn-Bedrock-Service-Tier"
GUARDRAIL_ID_HEADER = "X-Amzn-Bedrock-GuardrailIdentifier"
GUARDRAIL_VERSION_HEADER = "X-Amzn-Bedrock-GuardrailVersion"
TRACE_HEADER = "X-Amzn-Bedrock-Trace"
CACHE_READ_HEADER = "X-Amzn-Bedrock-Cache-Read-Input-Token-Count"
CACHE_WRITE_HEADER = "X-Amzn-Bedrock-Cache-Write-Input-Token-Count"


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
        _, _, limit = family.read(data)
        prompt, tokens, options = family.read_options(data, headers.get(SERVICE_TIER_HEADER))
        guardrail = headers.get(GUARDRAIL_ID_HEADER)
        if guardrail:
            trace = headers.get(TRACE_HEADER, "").upper() in ("ENABLED", "ENABLED_FULL")
            version = headers.get(GUARDRAIL_VERSION_HEADER, "DRAFT")
            options = replace(options, guardrail=GuardrailAsk(guardrail, version, trace))
        return ParsedRequest(
            model_id=model_id or "",
            prompt=prompt,
            input_tokens=tokens,
            max_tokens=limit,
            latency_optimized=headers.get(PERFORMANCE_HEADER, "").lower() == "optimized",
            stream=self.stream,
            native=family.name,
            options=options,
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
        headers.update(_option_headers(plan))
        return json_bytes(family.message(plan)), headers


def _family(request: ParsedRequest) -> NativeFamily:
    return ANTHROPIC if request.native == "anthropic" else NOVA


def _option_headers(plan: ResponsePlan) -> dict[str, str]:
    """The tier that served (when one was asked) and the cache's token counts."""
    headers: dict[str, str] = {}
    if plan.service_tier is not None:
        headers[SERVICE_TIER_HEADER] = served_tier(plan)
    if plan.cache is not None:
        headers[CACHE_READ_HEADER] = str(plan.cache.read_tokens)
        headers[CACHE_WRITE_HEADER] = str(plan.cache.write_tokens)
    return headers


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
        self.headers.update(_option_headers(plan))
        # An answer with options opens and closes its blocks (reasoning, text, tool use).
        self.blocks = self.family.blocks(plan) if plan.options else None

    def start(self) -> bytes:
        events = self.blocks.start() if self.blocks else self.family.start_events(self.plan)
        return b"".join(_chunk(event) for event in events)

    def delta(self, text: str, *, corrupt: bool = False, kind: DeltaKind = "text") -> bytes:
        if self.blocks is None:
            return _chunk(self.family.delta_event(text), corrupt=corrupt)
        events = self.blocks.delta(text, kind)
        last = len(events) - 1
        return b"".join(
            _chunk(event, corrupt=corrupt and index == last) for index, event in enumerate(events)
        )

    def end(self, timing: Timing) -> bytes:
        events = self.blocks.end() if self.blocks else self.family.end_events(self.plan)
        metrics: dict[str, Any] = {
            "inputTokenCount": self.plan.input_tokens,
            "outputTokenCount": self.plan.output_tokens,
            "invocationLatency": timing.latency_ms,
            "firstByteLatency": timing.first_byte_ms
            if timing.first_byte_ms is not None
            else timing.latency_ms,
        }
        if self.plan.cache is not None:
            metrics["cacheReadInputTokenCount"] = self.plan.cache.read_tokens
            metrics["cacheWriteInputTokenCount"] = self.plan.cache.write_tokens
        events[-1] = {**events[-1], "amazon-bedrock-invocationMetrics": metrics}
        return b"".join(_chunk(event) for event in events)

    def exception(self, fault: FaultKind) -> bytes:
        return stream_exception(fault, "InvokeModelWithResponseStream")
