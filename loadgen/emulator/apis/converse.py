"""Converse and ConverseStream: POST /model/{modelId}/converse and .../converse-stream.

The stream is AWS event-stream frames: messageStart, contentBlockDelta per delta,
contentBlockStop, messageStop {stopReason}, metadata {usage, metrics {latencyMs}}. Converse
answers one JSON body: output.message, stopReason, usage, metrics.latencyMs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from loadgen.emulator.apis.base import Timing, json_bytes, json_object, positive_int, prompt_of
from loadgen.emulator.eventstream import event_frame, exception_frame
from loadgen.emulator.plan import ParsedRequest, ResponsePlan
from loadgen.emulator.profiles import FaultKind
from loadgen.emulator.wire import EVENTSTREAM_CONTENT_TYPE, STREAM_EXCEPTIONS, error_response


def performance_config(plan: ResponsePlan) -> dict[str, Any]:
    """The latency the request was served with, as Bedrock reports it."""
    return {"latency": "optimized" if plan.latency_optimized else "standard"}


class ConverseApi:
    def __init__(self, stream: bool) -> None:
        self.stream = stream
        self.name = "converse-stream" if stream else "converse"

    def parse(self, body: bytes, model_id: str | None, headers: Mapping[str, str]) -> ParsedRequest:
        data = json_object(body)
        config = data.get("inferenceConfig")
        limit = config.get("maxTokens") if isinstance(config, dict) else None
        prompt, tokens = prompt_of(data.get("system"), data.get("messages"))
        performance = data.get("performanceConfig")
        latency = performance.get("latency") if isinstance(performance, dict) else None
        return ParsedRequest(
            model_id=model_id or "",
            prompt=prompt,
            input_tokens=tokens,
            max_tokens=positive_int(limit, "inferenceConfig.maxTokens"),
            latency_optimized=latency == "optimized",
            stream=self.stream,
        )

    def error(self, status: int, code: str, message: str, request_id: str) -> web.Response:
        return error_response(status, code, message, request_id)

    def streamer(self, request: ParsedRequest, plan: ResponsePlan) -> ConverseStreamEncoder | None:
        return ConverseStreamEncoder(request, plan) if self.stream else None

    def body(
        self, request: ParsedRequest, plan: ResponsePlan, timing: Timing
    ) -> tuple[bytes, dict[str, str]]:
        payload: dict[str, Any] = {
            "output": {"message": {"role": "assistant", "content": [{"text": plan.text}]}},
            "stopReason": plan.stop_reason,
            "usage": plan.usage,
            "metrics": {"latencyMs": timing.latency_ms},
        }
        if request.latency_optimized:
            payload["performanceConfig"] = performance_config(plan)
        return json_bytes(payload), {"Content-Type": "application/json"}


class ConverseStreamEncoder:
    headers: Mapping[str, str] = {"Content-Type": EVENTSTREAM_CONTENT_TYPE}

    def __init__(self, request: ParsedRequest, plan: ResponsePlan) -> None:
        self.request = request
        self.plan = plan

    def start(self) -> bytes:
        return event_frame("messageStart", {"role": "assistant"})

    def delta(self, text: str, *, corrupt: bool = False) -> bytes:
        payload = {"contentBlockIndex": 0, "delta": {"text": text}}
        return event_frame("contentBlockDelta", payload, corrupt_crc=corrupt)

    def end(self, timing: Timing) -> bytes:
        metadata: dict[str, Any] = {
            "usage": self.plan.usage,
            "metrics": {"latencyMs": timing.latency_ms},
        }
        if self.request.latency_optimized:
            metadata["performanceConfig"] = performance_config(self.plan)
        return b"".join(
            [
                event_frame("contentBlockStop", {"contentBlockIndex": 0}),
                event_frame("messageStop", {"stopReason": self.plan.stop_reason}),
                event_frame("metadata", metadata),
            ]
        )

    def exception(self, fault: FaultKind) -> bytes:
        return exception_frame(*STREAM_EXCEPTIONS[fault])
