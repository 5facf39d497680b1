"""Converse and ConverseStream: POST /model/{modelId}/converse and .../converse-stream.

The stream is AWS event-stream frames: messageStart, contentBlockDelta per delta,
contentBlockStop, messageStop {stopReason}, metadata {usage, metrics {latencyMs}}. Converse
answers one JSON body: output.message, stopReason, usage, metrics.latencyMs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiohttp import web

from loadgen.emulator.apis.base import Timing, json_bytes, json_object, positive_int
from loadgen.emulator.apis.blocks import ConverseBlocks, Event, message_content, option_metadata
from loadgen.emulator.apis.content import ContentReader, converse_options
from loadgen.emulator.eventstream import event_frame
from loadgen.emulator.plan import DeltaKind, ParsedRequest, ResponsePlan
from loadgen.emulator.profiles import FaultKind
from loadgen.emulator.wire import EVENTSTREAM_CONTENT_TYPE, error_response, stream_exception


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
        reader = ContentReader()  # tools, system, messages: the order a cache prefix has
        tool_config = data.get("toolConfig")
        if isinstance(tool_config, dict):
            reader.converse_tools(tool_config.get("tools"))
        reader.converse_blocks(data.get("system"))
        reader.converse_messages(data.get("messages"))
        performance = data.get("performanceConfig")
        latency = performance.get("latency") if isinstance(performance, dict) else None
        return ParsedRequest(
            model_id=model_id or "",
            prompt=reader.prompt,
            input_tokens=reader.input_tokens,
            max_tokens=positive_int(limit, "inferenceConfig.maxTokens"),
            latency_optimized=latency == "optimized",
            stream=self.stream,
            options=converse_options(data, reader),
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
        if plan.options:
            payload["output"]["message"]["content"] = message_content(plan)
            payload.update(option_metadata(plan))
        return json_bytes(payload), {"Content-Type": "application/json"}


class ConverseStreamEncoder:
    headers: Mapping[str, str] = {"Content-Type": EVENTSTREAM_CONTENT_TYPE}

    def __init__(self, request: ParsedRequest, plan: ResponsePlan) -> None:
        self.request = request
        self.plan = plan
        self.blocks = ConverseBlocks(plan)  # the content blocks of an answer with options

    def start(self) -> bytes:
        return event_frame("messageStart", {"role": "assistant"})

    def delta(self, text: str, *, corrupt: bool = False, kind: DeltaKind = "text") -> bytes:
        if self.plan.options:
            return _frames(self.blocks.delta(text, kind), corrupt_last=corrupt)
        payload = {"contentBlockIndex": 0, "delta": {"text": text}}
        return event_frame("contentBlockDelta", payload, corrupt_crc=corrupt)

    def end(self, timing: Timing) -> bytes:
        metadata: dict[str, Any] = {
            "usage": self.plan.usage,
            "metrics": {"latencyMs": timing.latency_ms},
        }
        if self.request.latency_optimized:
            metadata["performanceConfig"] = performance_config(self.plan)
        if self.plan.options:
            metadata.update(option_metadata(self.plan))
            return _frames(
                [
                    *self.blocks.close(),
                    ("messageStop", {"stopReason": self.plan.stop_reason}),
                    ("metadata", metadata),
                ]
            )
        return b"".join(
            [
                event_frame("contentBlockStop", {"contentBlockIndex": 0}),
                event_frame("messageStop", {"stopReason": self.plan.stop_reason}),
                event_frame("metadata", metadata),
            ]
        )

    def exception(self, fault: FaultKind) -> bytes:
        return stream_exception(fault, "ConverseStream")


def _frames(events: list[Event], *, corrupt_last: bool = False) -> bytes:
    last = len(events) - 1
    return b"".join(
        event_frame(name, payload, corrupt_crc=corrupt_last and index == last)
        for index, (name, payload) in enumerate(events)
    )
