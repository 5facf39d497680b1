"""One request's outcome: the plain record between the runner and everything downstream.

Instants are integer microseconds since the run's t0 on the monotonic clock; durations are
differences of them. A Sample is immutable and serialises to one samples.jsonl line
(`to_json_dict`, in the types of `SampleLine`), and a samples.jsonl can be replayed into a
report offline (`read_samples`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, NotRequired, cast

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
# A samples.jsonl line's outcome: "ok", or the request's error class.
OutcomeName = Literal[
    "ok",
    "throttled",
    "client",
    "server",
    "timeout",
    "connection",
    "protocol",
    "dropped",
    "cancelled",
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
    first_token_us: int | None = None  # first generated delta of any kind (TTFT)
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
    api: str | None = None  # the API that carried it (target.api; compare_streaming's second)
    # The tier that served it, as the response says (Bedrock's serviceTier.type: "default",
    # "priority", "flex", "reserved"); None where the response names none. Its cost is billed
    # at that tier's rates (docs/pricing.md).
    service_tier: str | None = None

    # The first delta of each kind (docs/metrics.md "Content kinds"): reasoning, answer text,
    # tool use. first_token_us is the earliest of them.
    first_reasoning_us: int | None = None
    first_answer_us: int | None = None
    first_tool_us: int | None = None
    # Reasoning tokens as the server reports them, or estimated from the reasoning text
    # (reasoning_tokens_estimated); None when the answer had no reasoning.
    reasoning_tokens: int | None = None
    reasoning_tokens_estimated: bool = False
    server_request_id: str | None = None  # x-amzn-RequestId, or an OpenAI server's request id
    session_id: int | None = None  # a conversation's requests share it
    turn: int | None = None  # 1, 2, ... within the session

    # Kept when quality is scored or --keep-text asks (docs/quality.md); written with --keep-text.
    response_text: str | None = None

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
    def ttfa_service_us(self) -> int | None:
        """Time to first answer token, from send: TTFT when no reasoning or tool use came first."""
        return _between(self.send_us, self.first_answer_us)

    @property
    def reasoning_us(self) -> int | None:
        """Reasoning time: from the first reasoning delta to the first answer or tool-use delta
        (to the end when neither came)."""
        if self.first_reasoning_us is None:
            return None
        after = [t for t in (self.first_answer_us, self.first_tool_us) if t is not None]
        return _between(self.first_reasoning_us, min(after) if after else self.end_us)

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

    def to_json_dict(self, line_format: LineFormat) -> SampleLine:
        """This request as one samples.jsonl line (docs/report.md "samples.jsonl").

        One type per field on every line: integers stay integers (a cost in nano-dollars,
        the server's milliseconds in microseconds), text is never null ("" where there is
        none), and a number is null only where it was not measured or not known. Built as
        one dict literal: it runs once per request, on the event loop."""
        error = self.error
        sent = self.send_us is not None
        usage = self.input_tokens is not None
        cost = self.cost_usd
        server_latency = self.server_latency_ms
        first_byte = self.server_first_byte_ms
        line: dict[str, Any] = {
            "run_id": line_format.run_id,
            "request_id": self.request_id,
            "model": self.model,
            "row_id": self.row_id,
            "api": self.api or "",
            "warmup": self.warmup,
            "outcome": "ok" if error is None else error.value,
            "start_unix_us": line_format.t0_unix_us + self.intended_us,
            "intended_us": self.intended_us,
            "dispatch_us": self.dispatch_us,
            "send_us": self.send_us,
            "first_token_us": self.first_token_us,
            "first_reasoning_us": self.first_reasoning_us,
            "first_answer_us": self.first_answer_us,
            "first_tool_us": self.first_tool_us,
            "end_us": self.end_us,
            "schedule_lag_us": self.dispatch_us - self.intended_us,
            "client_prep_us": self.client_prep_us,
            # A request that went out without queueing for a connection waited 0 us.
            "pool_wait_us": (0 if sent else None)
            if self.pool_wait_us is None
            else self.pool_wait_us,
            "ttft_service_us": self.ttft_service_us,
            "ttft_response_us": self.ttft_response_us,
            "ttfa_service_us": self.ttfa_service_us,
            "reasoning_us": self.reasoning_us,
            "ttlt_service_us": self.ttlt_service_us,
            "ttlt_response_us": self.ttlt_response_us,
            "tpot_us": self.tpot_us,
            "itl_us": list(self.itl_us),
            "deltas": self.deltas,
            "server_latency_us": None if server_latency is None else server_latency * 1000,
            "server_first_byte_us": None if first_byte is None else first_byte * 1000,
            "client_overhead_us": self.client_overhead_us,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            # Usage that names no cache tokens used none; without usage they are unknown.
            "cache_read_tokens": (0 if usage else None)
            if self.cache_read_tokens is None
            else self.cache_read_tokens,
            "cache_write_tokens": (0 if usage else None)
            if self.cache_write_tokens is None
            else self.cache_write_tokens,
            "tokens_estimated": self.tokens_estimated,
            "reasoning_tokens": self.reasoning_tokens,
            "reasoning_tokens_estimated": self.reasoning_tokens_estimated,
            "cost_nusd": None if cost is None else round(cost * NANO_USD_PER_USD),
            "service_tier": self.service_tier or "",
            "stop_reason": self.stop_reason or "",
            "server_request_id": self.server_request_id or "",
            "session_id": self.session_id,
            "turn": self.turn,
            # Every API loadgen drives answers a successful request with 200; a failure
            # keeps the status it came with (null: no HTTP answer, or a failure mid-stream).
            "http_status": HTTP_OK if error is None else self.http_status,
            "error_code": "" if error is None else self.error_code or "",
            "error_message": "" if error is None else self.error_message or "",
        }
        for name in line_format.omit:
            del line[name]
        if line_format.keep_text:
            line["response_text"] = self.response_text or ""
        return cast(SampleLine, line)  # the schema test checks every key against SampleLine

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> Sample:
        """A Sample from one samples.jsonl line: this loadgen's (to_json_dict) or an earlier
        one's (schema_version 2: `error`, `cost_usd`, `server_latency_ms`)."""
        if "outcome" not in data:
            return cls._from_version_2(data)
        outcome = data["outcome"]
        failed = outcome != "ok"
        cost = data["cost_nusd"]
        server_latency = data.get("server_latency_us")
        first_byte = data.get("server_first_byte_us")
        return cls(
            request_id=data["request_id"],
            model=data["model"],
            row_id=data["row_id"],
            warmup=data["warmup"],
            intended_us=data["intended_us"],
            dispatch_us=data["dispatch_us"],
            send_us=data["send_us"],
            first_token_us=data.get("first_token_us"),
            # Absent from lines written before loadgen told content kinds apart.
            first_reasoning_us=data.get("first_reasoning_us"),
            first_answer_us=data.get("first_answer_us"),
            first_tool_us=data.get("first_tool_us"),
            end_us=data["end_us"],
            pool_wait_us=data["pool_wait_us"] or None,  # 0: it did not queue
            itl_us=tuple(data.get("itl_us", ())),
            deltas=data["deltas"],
            input_tokens=data["input_tokens"],
            output_tokens=data["output_tokens"],
            cache_read_tokens=data["cache_read_tokens"],
            cache_write_tokens=data["cache_write_tokens"],
            tokens_estimated=data["tokens_estimated"],
            reasoning_tokens=data.get("reasoning_tokens"),
            reasoning_tokens_estimated=data.get("reasoning_tokens_estimated", False),
            cost_usd=None if cost is None else cost / NANO_USD_PER_USD,
            server_latency_ms=None if server_latency is None else server_latency // 1000,
            stop_reason=data["stop_reason"] or None,
            server_request_id=data.get("server_request_id") or None,
            session_id=data.get("session_id"),
            turn=data.get("turn"),
            error=ErrorClass(outcome) if failed else None,
            error_code=data["error_code"] if failed else None,
            error_message=data["error_message"] if failed else None,
            http_status=data["http_status"] if failed else None,
            server_first_byte_ms=None if first_byte is None else first_byte // 1000,
            api=data["api"] or None,
            service_tier=data.get("service_tier") or None,  # absent before loadgen read it
            response_text=data.get("response_text"),
        )

    @classmethod
    def _from_version_2(cls, data: dict[str, Any]) -> Sample:
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        fields["itl_us"] = tuple(fields.get("itl_us", ()))
        if fields.get("error") is not None:
            fields["error"] = ErrorClass(fields["error"])
        return cls(**fields)


NANO_USD_PER_USD = 1_000_000_000  # samples.jsonl's cost_nusd: integer nano-dollars
HTTP_OK = 200


@dataclass(frozen=True, slots=True)
class LineFormat:
    """What a run's samples.jsonl lines carry besides each Sample's own fields."""

    run_id: str  # report.json's run.run_id: joins each line to its run
    t0_unix_us: int  # the run's t0 on the wall clock (Unix epoch, us): start_unix_us's origin
    # Fields none of the run's APIs can measure (TTFT without streaming, server timings on
    # OpenAI): left out of every line, rather than null on every line (a column without a type).
    omit: tuple[str, ...] = ()
    keep_text: bool = False  # --keep-text: each line carries response_text


class SampleLine(TypedDict):
    """One line of samples.jsonl: one request (Sample.to_json_dict). Every duration in integer
    microseconds; instants in microseconds since the run's t0 (null: never reached); a cost in
    integer nano-dollars; text never null. docs/report.md "samples.jsonl"."""

    run_id: str
    request_id: int
    model: str
    row_id: str
    api: str
    warmup: bool
    outcome: OutcomeName
    start_unix_us: int
    intended_us: int
    dispatch_us: int
    send_us: int | None
    first_token_us: NotRequired[int | None]  # left out when no API of the run streams
    # The first delta of each kind (docs/metrics.md "Content kinds"); left out with
    # first_token_us, and (reasoning, tool use) when the run's requests cannot produce it.
    first_reasoning_us: NotRequired[int | None]
    first_answer_us: NotRequired[int | None]
    first_tool_us: NotRequired[int | None]
    end_us: int | None
    schedule_lag_us: int
    client_prep_us: int | None
    pool_wait_us: int | None
    ttft_service_us: NotRequired[int | None]
    ttft_response_us: NotRequired[int | None]
    ttfa_service_us: NotRequired[int | None]  # time to first answer token, from send
    reasoning_us: NotRequired[int | None]  # first reasoning delta to first answer or tool use
    ttlt_service_us: int | None
    ttlt_response_us: int | None
    tpot_us: NotRequired[int | None]
    itl_us: NotRequired[list[int]]
    deltas: int
    server_latency_us: NotRequired[int | None]  # left out when no API of the run reports it
    server_first_byte_us: NotRequired[int | None]  # bedrock-invoke-stream only
    client_overhead_us: NotRequired[int | None]  # with server_latency_us
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    tokens_estimated: bool
    # As the server reports them, else estimated; null: none. Left out when no model of the
    # run reasons (loadgen/sinks/jsonl.py, unused_kinds), as session_id and turn are outside
    # conversations.
    reasoning_tokens: NotRequired[int | None]
    reasoning_tokens_estimated: bool  # estimated from the reasoning text (4 characters a token)
    cost_nusd: int | None
    service_tier: str  # the tier the response says served it; "" where it names none
    stop_reason: str
    server_request_id: str  # x-amzn-RequestId, or the OpenAI server's; "" where none came
    session_id: NotRequired[int | None]  # a conversation's requests share it
    turn: NotRequired[int | None]  # 1, 2, ... within the session
    http_status: int | None
    error_code: str
    error_message: str
    response_text: NotRequired[str]  # only with --keep-text


def _between(start: int | None, end: int | None) -> int | None:
    return None if start is None or end is None else end - start


def read_samples(path: Path) -> Iterator[Sample]:
    """The Samples of a samples.jsonl, in file order (loadgen/sinks/jsonl.py writes it)."""
    with path.open("rb") as handle:
        for line in handle:
            if line.strip():
                yield Sample.from_json_dict(fast_json.loads(line))
