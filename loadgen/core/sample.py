"""One request's outcome: the plain record between the runner and everything downstream.

Instants are integer microseconds since the run's t0 on the monotonic clock; durations are
differences of them. A Sample is immutable and serialises to one JSONL line, and a JSONL file
of Samples can be replayed into a report offline.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, cast

from typing_extensions import TypedDict  # pydantic reads typing's own only from Python 3.12

from loadgen.core import fast_json


class ErrorClass(StrEnum):
    THROTTLED = "throttled"  # HTTP 429 before the stream, or a throttlingException frame in it
    CLIENT = "client"  # other 4xx
    SERVER = "server"  # 5xx, modelStreamErrorException, internalServerException
    TIMEOUT = "timeout"  # a connect, first-token or total deadline passed
    CONNECTION = "connection"  # reset, refused, payload cut
    PROTOCOL = "protocol"  # stream ended without messageStop/metadata, bad checksum
    DROPPED = "dropped"  # never sent: the in-flight cap was hit
    # Sent, but the run stopped (an interrupt, a guard, a failed write) before the answer
    # ended: kept with what was measured (send, TTFT if it came), its cost booked as reserved.
    CANCELLED = "cancelled"


# ErrorClass's values, for the types of the JSON it is written into.
ErrorName = Literal[
    "throttled", "client", "server", "timeout", "connection", "protocol", "dropped", "cancelled"
]


@dataclass(frozen=True, slots=True)
class Sample:
    request_id: int
    model: str
    row_id: str
    warmup: bool
    intended_us: int  # when the schedule said to send
    dispatch_us: int  # when the runner handed it to the backend
    send_us: int | None = None  # when the request went out on the socket
    first_token_us: int | None = None  # first non-empty text delta
    end_us: int | None = None  # last byte (stream end, after metadata), or the failure
    pool_wait_us: int | None = None  # time queued for a pooled connection
    itl_us: tuple[int, ...] = ()  # every gap between consecutive content deltas
    deltas: int = 0
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int | None = None  # usage.cacheReadInputTokens (not in input_tokens)
    cache_write_tokens: int | None = None  # usage.cacheWriteInputTokens
    tokens_estimated: bool = False  # True when the server gave no usage
    cost_usd: float | None = None  # 0.0 when not billed; None when unpriced or unknown
    server_latency_ms: int | None = None  # metadata.metrics.latencyMs
    stop_reason: str | None = None
    error: ErrorClass | None = None
    error_code: str | None = None  # e.g. ThrottlingException, ClientPayloadError
    error_message: str | None = None
    http_status: int | None = None
    # Bedrock's firstByteLatency (InvokeModelWithResponseStream's invocation metrics)
    server_first_byte_ms: int | None = None
    api: str | None = None  # set when the run used more than one API (compare_streaming)

    response_text: str | None = None  # only when quality scoring is on (docs/quality.md)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def schedule_lag_us(self) -> int:
        return self.dispatch_us - self.intended_us

    @property
    def client_prep_us(self) -> int | None:
        return None if self.send_us is None else self.send_us - self.dispatch_us

    @property
    def ttft_service_us(self) -> int | None:
        return _between(self.send_us, self.first_token_us)

    @property
    def ttft_response_us(self) -> int | None:
        return _between(self.intended_us, self.first_token_us)

    @property
    def ttlt_service_us(self) -> int | None:
        return _between(self.send_us, self.end_us)

    @property
    def ttlt_response_us(self) -> int | None:
        return _between(self.intended_us, self.end_us)

    @property
    def tpot_us(self) -> int | None:
        """(TTLT - TTFT) / (output tokens - 1), using the server's token count."""
        if self.first_token_us is None or self.end_us is None or not self.output_tokens:
            return None
        if self.output_tokens < 2:
            return None
        return (self.end_us - self.first_token_us) // (self.output_tokens - 1)

    @property
    def client_overhead_us(self) -> int | None:
        """E2E (TTLT from send) minus the latency the server reports for itself."""
        if self.server_latency_ms is None:
            return None
        e2e = self.ttlt_service_us
        return None if e2e is None else e2e - self.server_latency_ms * 1000

    def to_json_dict(self) -> SampleLine:
        # dataclasses.asdict deep-copies every field: a shallow read of the (immutable) fields
        # gives the same dict, keys in the same order, at a tenth of the cost.
        data = dict(zip(_FIELD_NAMES, _read_fields(self), strict=True))
        data["error"] = self.error.value if self.error else None
        data["itl_us"] = list(self.itl_us)
        for name in ("schedule_lag_us", "client_prep_us", "ttft_service_us", "ttft_response_us"):
            data[name] = getattr(self, name)
        data["ttlt_service_us"] = self.ttlt_service_us
        data["ttlt_response_us"] = self.ttlt_response_us
        data["tpot_us"] = self.tpot_us
        data["client_overhead_us"] = self.client_overhead_us
        return cast(SampleLine, data)  # the schema test checks every key against SampleLine

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> Sample:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["itl_us"] = tuple(fields.get("itl_us", ()))
        if fields.get("error") is not None:
            fields["error"] = ErrorClass(fields["error"])
        return cls(**fields)


class SampleLine(TypedDict):
    """One line of samples.jsonl: one request (Sample.to_json_dict). Instants and durations in
    integer microseconds since the run's t0 (null: never reached); docs/report.md."""

    request_id: int
    model: str
    row_id: str
    warmup: bool
    intended_us: int
    dispatch_us: int
    send_us: int | None
    first_token_us: int | None
    end_us: int | None
    pool_wait_us: int | None
    itl_us: list[int]
    deltas: int
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    tokens_estimated: bool
    cost_usd: float | None
    server_latency_ms: int | None
    stop_reason: str | None
    error: ErrorName | None
    error_code: str | None
    error_message: str | None
    http_status: int | None
    server_first_byte_ms: int | None
    api: str | None
    response_text: str | None
    schedule_lag_us: int
    client_prep_us: int | None
    ttft_service_us: int | None
    ttft_response_us: int | None
    ttlt_service_us: int | None
    ttlt_response_us: int | None
    tpot_us: int | None
    client_overhead_us: int | None


_FIELD_NAMES = tuple(field.name for field in dataclasses.fields(Sample))
_read_fields = operator.attrgetter(*_FIELD_NAMES)


def _between(start: int | None, end: int | None) -> int | None:
    return None if start is None or end is None else end - start


def read_samples(path: Path) -> Iterator[Sample]:
    """The Samples of a samples.jsonl, in file order (loadgen/sinks/jsonl.py writes it)."""
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield Sample.from_json_dict(fast_json.loads(line))
