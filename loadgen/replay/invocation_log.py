"""One Bedrock model invocation log record (schemaType `ModelInvocationLog`, schemaVersion
`1.0`) as a ReplayRecord, or the reason it cannot be replayed.

The fields read (AWS, "Monitor model invocation using CloudWatch Logs and Amazon S3";
docs/replay.md cites the sources): `timestamp` (RFC 3339, to the second), `modelId`,
`operation`, `errorCode` (a failed call), `input.inputTokenCount`,
`input.cacheReadInputTokenCount`, `input.cacheWriteInputTokenCount`, `input.inputBodyJson`
(the request, when text logging is on), `output.outputTokenCount`,
`output.outputBodyJson.metrics.latencyMs` (Converse; `invocationLatency` in a stream's
`amazon-bedrock-invocationMetrics`), `performanceConfig.latency` and `serviceTier` (in the
record or in the logged Converse body)."""

from __future__ import annotations

import re
from typing import Any, cast, get_args

from loadgen.engine.request import LatencyMode, ServiceTier
from loadgen.replay.bodies import logged_request
from loadgen.replay.instants import parse_instant
from loadgen.replay.records import OPERATIONS, RecordSkip, ReplayRecord

# Models that do not generate text: embeddings, rerankers, image and video generators. Their
# calls are InvokeModel too, but there is no text generation to replay.
_NOT_TEXT_MODEL = re.compile(r"embed|rerank|image|canvas|reel|stability\.|\.sd3", re.IGNORECASE)
_NOT_TEXT_OUTPUT = ("embedding", "embeddings", "images", "image", "artifacts")


def is_invocation_record(value: Any) -> bool:
    """Whether a JSON value looks like an invocation log record (for telling layouts apart)."""
    return isinstance(value, dict) and (
        value.get("schemaType") == "ModelInvocationLog"
        or ("modelId" in value and "operation" in value)
    )


def parse_record(value: Any, where: str) -> ReplayRecord | tuple[RecordSkip, str]:
    """The record, or (reason, detail) when it cannot be replayed."""
    if not isinstance(value, dict):
        return "malformed_record", f"expected a JSON object, found {type(value).__name__}"
    model = value.get("modelId")
    operation = value.get("operation")
    stamp = value.get("timestamp")
    if not isinstance(model, str) or not model:
        return "missing_field", "no modelId"
    if not isinstance(stamp, str):
        return "missing_field", "no timestamp"
    if operation not in OPERATIONS:
        return "unsupported_operation", f"operation {operation!r}"
    if _NOT_TEXT_MODEL.search(model.rsplit("/", 1)[-1]):
        return "not_a_text_model", model
    if value.get("errorCode"):
        return "failed_call", str(value["errorCode"])[:100]
    given_input = _dict(value.get("input"))
    given_output = _dict(value.get("output"))
    output_body = given_output.get("outputBodyJson")
    if isinstance(output_body, dict) and any(key in output_body for key in _NOT_TEXT_OUTPUT):
        return "not_a_text_model", f"{model}: the output is not text"
    input_tokens = _count(given_input.get("inputTokenCount"))
    output_tokens = _count(given_output.get("outputTokenCount"))
    if input_tokens is None or output_tokens is None:
        return "missing_field", "no input.inputTokenCount or output.outputTokenCount"
    try:
        unix_us, whole_second = parse_instant(stamp)
    except ValueError:
        return "malformed_record", f"timestamp {stamp!r} is not an RFC 3339 time"
    body = given_input.get("inputBodyJson")
    return ReplayRecord(
        unix_us=unix_us,
        whole_second=whole_second,
        model=model,
        operation=operation,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=_count(given_input.get("cacheReadInputTokenCount")) or 0,
        cache_write_tokens=_count(given_input.get("cacheWriteInputTokenCount")) or 0,
        latency=_latency(value, body),
        service_tier=_service_tier(value, body),
        latency_ms=_latency_ms(output_body),
        request=logged_request(body),
        where=where,
    )


def _latency(record: dict[str, Any], body: Any) -> LatencyMode | None:
    """performanceConfig.latency, in the record or (Converse) in the logged body."""
    for holder in (record, _dict(body)):
        latency = _dict(holder.get("performanceConfig")).get("latency")
        if latency in get_args(LatencyMode):
            return cast(LatencyMode, latency)
    return None


def _service_tier(record: dict[str, Any], body: Any) -> ServiceTier | None:
    """serviceTier ({"type": ...} as Converse takes it, or the bare name), in the record or in
    the logged body."""
    for holder in (record, _dict(body)):
        tier = holder.get("serviceTier")
        tier = _dict(tier).get("type") if isinstance(tier, dict) else tier
        if tier in get_args(ServiceTier):
            return cast(ServiceTier, tier)
    return None


def _latency_ms(output_body: Any) -> int | None:
    """The server's latency: Converse's metrics.latencyMs, or a stream's last chunk's
    amazon-bedrock-invocationMetrics.invocationLatency."""
    bodies = output_body if isinstance(output_body, list) else [output_body]
    for body in reversed(bodies):
        body = _dict(body)
        found = _count(_dict(body.get("metrics")).get("latencyMs"))
        if found is None:
            metrics = _dict(body.get("amazon-bedrock-invocationMetrics"))
            found = _count(metrics.get("invocationLatency"))
        if found is None:  # a ConverseStream log keeps the metadata event
            found = _count(_dict(_dict(body.get("metadata")).get("metrics")).get("latencyMs"))
        if found is not None:
            return found
    return None


def _count(value: Any) -> int | None:
    """A non-negative integer count (JSON may give 12.0), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, float) and value >= 0 and value.is_integer():
        return int(value)
    return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
