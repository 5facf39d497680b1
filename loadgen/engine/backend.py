"""The seam between the runner and an endpoint.

The runner hands a `Request` and an empty `Timeline` to a `Backend`; the backend sends the
request, marks on the timeline when bytes left and arrived, and records usage or the error
class. Only backend modules import an SDK or an HTTP client.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from loadgen.core.redact import redact_text
from loadgen.core.sample import ErrorClass, Sample
from loadgen.engine.request import Request


@dataclass(slots=True)
class ToolCall:
    """A tool use the answer asked for, as it streamed in (kept only with text capture)."""

    tool_use_id: str | None
    name: str | None
    input_json: str = ""


class Timeline:
    """Instants of one request on the perf_counter_ns clock, filled in as they happen.

    Mutable on purpose: the backend and the HTTP trace hooks write to it from inside the
    request's task; the runner freezes it into a `Sample` at the end.
    """

    __slots__ = (
        "cache_read_tokens",
        "cache_write_tokens",
        "delta_ns",
        "end_ns",
        "error",
        "error_code",
        "error_message",
        "first_answer_ns",
        "first_reasoning_ns",
        "first_token_ns",
        "first_tool_ns",
        "http_status",
        "input_tokens",
        "on_first_token",
        "output_tokens",
        "pool_queued_ns",
        "pool_wait_ns",
        "reasoning_chars",
        "reasoning_tokens",
        "send_ns",
        "server_first_byte_ms",
        "server_latency_ms",
        "server_request_id",
        "service_tier",
        "stop_reason",
        "text_parts",
        "tool_uses",
        "whole_response",
    )

    def __init__(
        self, on_first_token: Callable[[], None] | None = None, *, capture_text: bool = False
    ) -> None:
        self.send_ns: int | None = None
        # The first generated delta of any kind (TTFT), and the first of each kind: reasoning
        # (reasoningContent, Anthropic thinking), answer text, tool use (docs/metrics.md).
        self.first_token_ns: int | None = None
        self.first_reasoning_ns: int | None = None
        self.first_answer_ns: int | None = None
        self.first_tool_ns: int | None = None
        self.end_ns: int | None = None
        self.pool_queued_ns: int | None = None
        self.pool_wait_ns: int | None = None
        self.delta_ns: list[int] = []
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.cache_read_tokens: int | None = None
        self.cache_write_tokens: int | None = None
        # Reasoning tokens as the server reports them; else estimated from reasoning_chars.
        self.reasoning_tokens: int | None = None
        self.reasoning_chars = 0
        # The server's id for the request (x-amzn-RequestId; an OpenAI server's x-request-id
        # or response id): joins a sample to the server's logs.
        self.server_request_id: str | None = None
        self.server_latency_ms: int | None = None
        self.service_tier: str | None = None  # the response's serviceTier.type, where it says
        self.server_first_byte_ms: int | None = None
        self.whole_response = False
        self.stop_reason: str | None = None
        self.error: ErrorClass | None = None
        self.error_code: str | None = None
        self.error_message: str | None = None
        self.http_status: int | None = None
        self.on_first_token = on_first_token
        # The response text, kept only when asked (quality scoring): most runs need none of it.
        self.text_parts: list[str] | None = [] if capture_text else None
        self.tool_uses: list[ToolCall] = []  # kept with the text, when capture is on

    def mark_send(self) -> None:
        # Trace hooks can fire more than once (a redirect, a retried connection): keep the first.
        if self.send_ns is None:
            self.send_ns = time.perf_counter_ns()

    def mark_content(self, text: str = "") -> None:
        """An answer-text delta with non-empty text arrived; its text is kept if capture is on."""
        now = time.perf_counter_ns()
        if self.first_answer_ns is None:
            self.first_answer_ns = now
            if self.first_token_ns is None:
                self._first_token(now)
        self.delta_ns.append(now)
        if self.text_parts is not None:
            self.text_parts.append(text)

    def mark_reasoning(self, text: str = "") -> None:
        """A reasoning delta (text or a signature) arrived: generated output, so it is a token
        for TTFT and ITL; its characters are counted to estimate reasoning tokens the server
        does not report."""
        now = time.perf_counter_ns()
        if self.first_reasoning_ns is None:
            self.first_reasoning_ns = now
            if self.first_token_ns is None:
                self._first_token(now)
        self.delta_ns.append(now)
        self.reasoning_chars += len(text)

    def mark_tool_use(
        self, tool_use_id: str | None = None, name: str | None = None, input_part: str = ""
    ) -> None:
        """A tool-use delta (the block's start or a piece of its JSON input) arrived.

        With capture on, the tool calls are kept too (a session's next turn sends them back):
        a start gives its toolUseId and name, each later delta a piece of the input JSON."""
        now = time.perf_counter_ns()
        if self.first_tool_ns is None:
            self.first_tool_ns = now
            if self.first_token_ns is None:
                self._first_token(now)
        self.delta_ns.append(now)
        if self.text_parts is not None:
            if tool_use_id is not None or not self.tool_uses:
                self.tool_uses.append(ToolCall(tool_use_id, name))
            self.tool_uses[-1].input_json += input_part

    def _first_token(self, now: int) -> None:
        self.first_token_ns = now
        if self.on_first_token is not None:  # the first-token deadline is met by any kind
            self.on_first_token()

    def keep_text(self, text: str) -> None:
        """The text of an answer that came whole (no deltas), kept if capture is on."""
        if self.text_parts is not None:
            self.text_parts.append(text)

    def expect_whole_response(self) -> None:
        """A non-streaming API: no token arrives before the whole answer, so there is no
        TTFT to measure and only the total deadline applies."""
        self.whole_response = True
        if self.on_first_token is not None:
            self.on_first_token()

    def mark_end(self) -> None:
        if self.end_ns is None:
            self.end_ns = time.perf_counter_ns()

    def fail(
        self, error: ErrorClass, code: str, message: str = "", status: int | None = None
    ) -> None:
        # The first failure is the cause; later ones (closing a broken stream) are consequences.
        if self.error is None:
            # One choke point for every backend: a server may echo credentials back.
            self.error = error
            self.error_code = redact_text(code)
            self.error_message = redact_text(message)[:500]
            self.http_status = status
        self.mark_end()

    def to_sample(
        self,
        *,
        request: Request,
        t0_ns: int,
        intended_ns: int,
        dispatch_ns: int,
        warmup: bool,
    ) -> Sample:
        def rel(ns: int | None) -> int | None:
            return None if ns is None else (ns - t0_ns) // 1000

        gaps = tuple(
            (later - earlier) // 1000
            for earlier, later in zip(self.delta_ns, self.delta_ns[1:], strict=False)
        )
        return Sample(
            request_id=request.request_id,
            model=request.model,
            row_id=request.prompt.row_id,
            warmup=warmup,
            intended_us=(intended_ns - t0_ns) // 1000,
            dispatch_us=(dispatch_ns - t0_ns) // 1000,
            send_us=rel(self.send_ns),
            first_token_us=rel(self.first_token_ns),
            first_reasoning_us=rel(self.first_reasoning_ns),
            first_answer_us=rel(self.first_answer_ns),
            first_tool_us=rel(self.first_tool_ns),
            end_us=rel(self.end_ns),
            pool_wait_us=None if self.pool_wait_ns is None else self.pool_wait_ns // 1000,
            itl_us=gaps,
            deltas=len(self.delta_ns),
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cache_read_tokens=self.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens,
            tokens_estimated=False,
            reasoning_tokens=self._reasoning_tokens(),
            reasoning_tokens_estimated=self.reasoning_tokens is None and self.reasoning_chars > 0,
            server_request_id=self.server_request_id,
            session_id=request.session_id,
            turn=request.turn,
            server_latency_ms=self.server_latency_ms,
            server_first_byte_ms=self.server_first_byte_ms,
            api=request.api,
            service_tier=self.service_tier,
            stop_reason=self.stop_reason,
            error=self.error,
            error_code=self.error_code,
            error_message=self.error_message,
            http_status=self.http_status,
            response_text=None if self.text_parts is None else "".join(self.text_parts),
        )

    def _reasoning_tokens(self) -> int | None:
        if self.reasoning_tokens is not None:
            return self.reasoning_tokens
        if self.reasoning_chars:  # estimated: the same 4 characters a token as elsewhere
            estimate = max(1, round(self.reasoning_chars / CHARS_PER_TOKEN_ESTIMATE))
            # Reasoning is part of the output: an estimate never exceeds what the server counted.
            if self.output_tokens is not None:
                estimate = min(estimate, self.output_tokens)
            return estimate
        return None


# The estimate used where a server reports no count (docs/metrics.md "Reasoning tokens").
CHARS_PER_TOKEN_ESTIMATE = 4


class Backend(Protocol):
    """An endpoint client. `execute` never raises for a failed request: it records it."""

    async def start(self) -> None: ...

    async def execute(self, request: Request, timeline: Timeline) -> None: ...

    async def close(self) -> None: ...
