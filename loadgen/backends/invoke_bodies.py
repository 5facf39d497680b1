"""Native request and response bodies of InvokeModel and InvokeModelWithResponseStream.

Each model family has its own body: Anthropic Messages (`anthropic.*`) and Amazon Nova
(`amazon.nova*`). The family comes from the model id, after any cross-region inference-profile
prefix (`us.`, `eu.`, `apac.`, `global.`, ...) or ARN path. Usage is read from the native body
first and from Bedrock's `amazon-bedrock-invocationMetrics` (the last stream chunk) where the
body has none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from loadgen.engine.backend import Timeline
from loadgen.engine.request import Request

ANTHROPIC_VERSION = "bedrock-2023-05-31"
INVOCATION_METRICS = "amazon-bedrock-invocationMetrics"
_PROFILE_PREFIX = re.compile(r"^(?:us|us-gov|eu|apac|jp|au|ca|global)\.")


class ModelFamily(StrEnum):
    ANTHROPIC = "anthropic"
    NOVA = "nova"


def model_family(model_id: str) -> ModelFamily | None:
    """The native body family of a model id, inference profile id or ARN; None if unknown."""
    base = _PROFILE_PREFIX.sub("", model_id.rsplit("/", 1)[-1])
    if base.startswith("anthropic."):
        return ModelFamily.ANTHROPIC
    if base.startswith("amazon.nova"):
        return ModelFamily.NOVA
    return None


def request_body(family: ModelFamily, request: Request) -> dict[str, Any]:
    if family is ModelFamily.ANTHROPIC:
        body: dict[str, Any] = {
            "anthropic_version": ANTHROPIC_VERSION,
            "max_tokens": request.max_tokens,
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": request.prompt.user}]}
            ],
        }
        if request.prompt.system:
            body["system"] = request.prompt.system
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.top_p is not None:
            body["top_p"] = request.top_p
        return body
    inference: dict[str, Any] = {"maxTokens": request.max_tokens}
    if request.temperature is not None:
        inference["temperature"] = request.temperature
    if request.top_p is not None:
        inference["topP"] = request.top_p
    body = {
        "schemaVersion": "messages-v1",
        "messages": [{"role": "user", "content": [{"text": request.prompt.user}]}],
        "inferenceConfig": inference,
    }
    if request.prompt.system:
        body["system"] = [{"text": request.prompt.system}]
    return body


def read_response(family: ModelFamily, body: dict[str, Any], timeline: Timeline) -> bool:
    """Fill usage and stop reason from an InvokeModel body; False if it is not a full answer."""
    usage = body.get("usage")
    if family is ModelFamily.ANTHROPIC:
        timeline.keep_text(texts_of(body.get("content")))
        timeline.stop_reason = body.get("stop_reason")
        if isinstance(usage, dict):
            _anthropic_usage(usage, timeline)
        return isinstance(body.get("content"), list) and isinstance(usage, dict)
    timeline.stop_reason = body.get("stopReason")
    output = body.get("output")
    if isinstance(output, dict):
        timeline.keep_text(texts_of((output.get("message") or {}).get("content")))
    if isinstance(usage, dict):
        _nova_usage(usage, timeline)
    return isinstance(output, dict) and isinstance(usage, dict)


def texts_of(content: Any) -> str:
    """The text of a content list ([{"text": ...}, ...]) as both Converse and the native bodies
    write it; other blocks (tool use, images) have none."""
    if not isinstance(content, list):
        return ""
    return "".join(
        b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str)
    )


@dataclass
class StreamState:
    """What one InvokeModelWithResponseStream has said so far."""

    family: ModelFamily
    stopped: bool = False  # Anthropic message_stop, or Nova messageStop + metadata
    saw_metadata: bool = False
    saw_invocation_metrics: bool = False

    def missing(self) -> list[str]:
        """The events a complete stream has and this one lacked."""
        missing = []
        if self.family is ModelFamily.ANTHROPIC and not self.stopped:
            missing.append("message_stop")
        if self.family is ModelFamily.NOVA:
            if not self.stopped:
                missing.append("messageStop")
            if not self.saw_metadata:
                missing.append("metadata")
        if not self.saw_invocation_metrics:
            missing.append(INVOCATION_METRICS)
        return missing


def read_chunk(state: StreamState, chunk: dict[str, Any], timeline: Timeline) -> None:
    """Apply one decoded stream chunk to the timeline (content, usage, server timings)."""
    if state.family is ModelFamily.ANTHROPIC:
        _anthropic_chunk(state, chunk, timeline)
    else:
        _nova_chunk(state, chunk, timeline)
    metrics = chunk.get(INVOCATION_METRICS)
    if isinstance(metrics, dict):
        state.saw_invocation_metrics = True
        read_invocation_metrics(metrics, timeline)


def read_invocation_metrics(metrics: dict[str, Any], timeline: Timeline) -> None:
    latency, first_byte = metrics.get("invocationLatency"), metrics.get("firstByteLatency")
    if latency is not None:
        timeline.server_latency_ms = int(latency)
    if first_byte is not None:
        timeline.server_first_byte_ms = int(first_byte)
    # The native body's usage wins; Bedrock's counts fill what it left out.
    if timeline.input_tokens is None and metrics.get("inputTokenCount") is not None:
        timeline.input_tokens = int(metrics["inputTokenCount"])
    if timeline.output_tokens is None and metrics.get("outputTokenCount") is not None:
        timeline.output_tokens = int(metrics["outputTokenCount"])


def _anthropic_chunk(state: StreamState, chunk: dict[str, Any], timeline: Timeline) -> None:
    kind = chunk.get("type")
    if kind == "content_block_delta":
        text = (chunk.get("delta") or {}).get("text")
        if text:
            timeline.mark_content(text)
    elif kind == "message_start":
        usage = (chunk.get("message") or {}).get("usage")
        if isinstance(usage, dict):
            _anthropic_usage(usage, timeline)
    elif kind == "message_delta":
        timeline.stop_reason = (chunk.get("delta") or {}).get("stop_reason")
        usage = chunk.get("usage") or {}
        if usage.get("output_tokens") is not None:  # cumulative: the last one is the total
            timeline.output_tokens = int(usage["output_tokens"])
    elif kind == "message_stop":
        state.stopped = True


def _nova_chunk(state: StreamState, chunk: dict[str, Any], timeline: Timeline) -> None:
    if "contentBlockDelta" in chunk:
        text = ((chunk["contentBlockDelta"] or {}).get("delta") or {}).get("text")
        if text:
            timeline.mark_content(text)
    elif "messageStop" in chunk:
        state.stopped = True
        timeline.stop_reason = (chunk["messageStop"] or {}).get("stopReason")
    elif "metadata" in chunk:
        state.saw_metadata = True
        usage = (chunk["metadata"] or {}).get("usage")
        if isinstance(usage, dict):
            _nova_usage(usage, timeline)


def _anthropic_usage(usage: dict[str, Any], timeline: Timeline) -> None:
    timeline.input_tokens = usage.get("input_tokens", timeline.input_tokens)
    timeline.output_tokens = usage.get("output_tokens", timeline.output_tokens)
    timeline.cache_read_tokens = usage.get("cache_read_input_tokens")
    timeline.cache_write_tokens = usage.get("cache_creation_input_tokens")


def _nova_usage(usage: dict[str, Any], timeline: Timeline) -> None:
    timeline.input_tokens = usage.get("inputTokens")
    timeline.output_tokens = usage.get("outputTokens")
    timeline.cache_read_tokens = usage.get("cacheReadInputTokenCount")
    timeline.cache_write_tokens = usage.get("cacheWriteInputTokenCount")
