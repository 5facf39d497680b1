"""One request's plan: everything random about a response, drawn once, before any byte.

Every API encodes the same plan in its own format, so the timing and token counts a client
measures do not depend on which API it used; and with one seed and one arrival order, the
same plans come out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

from loadgen.emulator.profiles import FaultKind, Profile
from loadgen.emulator.text import response_text, token_count

StopReason = Literal["end_turn", "max_tokens"]


@dataclass(frozen=True)
class ParsedRequest:
    """What the emulator reads from a request, whichever API it came through."""

    model_id: str
    prompt: str  # all the text of system and messages, joined by newlines
    input_tokens: int
    max_tokens: int | None
    latency_optimized: bool = False
    stream: bool = True
    include_usage: bool = False  # OpenAI: stream_options.include_usage
    native: str = ""  # InvokeModel: the body family ("anthropic" or "nova")


@dataclass(frozen=True)
class ResponsePlan:
    request_id: str
    model_id: str
    fault: FaultKind | None
    input_tokens: int
    output_tokens: int
    stop_reason: StopReason
    texts: list[str]  # one per content delta
    ttft_ns: int  # from the start of generation (after any queue wait), stall included
    gaps_ns: list[int]  # between consecutive deltas; len(texts) - 1 of them
    latency_optimized: bool  # served by the latency-optimized variant

    @property
    def usage(self) -> dict[str, int]:
        return {
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "totalTokens": self.input_tokens + self.output_tokens,
        }

    @property
    def text(self) -> str:
        return "".join(self.texts)

    def due(self, start_ns: int) -> list[int]:
        """The absolute instant of each delta, for generation starting at start_ns."""
        instants = [start_ns + self.ttft_ns]
        for gap in self.gaps_ns:
            instants.append(instants[-1] + gap)
        return instants

    def log_fields(self) -> dict[str, Any]:
        return {
            "fault": self.fault,
            "ttft_ms": round(self.ttft_ns / 1e6, 3),
            "gaps_ms": [round(gap / 1e6, 3) for gap in self.gaps_ns],
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "stop_reason": self.stop_reason,
            "latency_optimized": self.latency_optimized,
        }


def draw_plan(
    request: ParsedRequest,
    profile: Profile,
    rng: random.Random,
    request_id: str,
    *,
    latency_optimized: bool = False,
) -> ResponsePlan:
    """All the draws for one request, in a fixed order: fault, length, text, TTFT, gaps."""
    fault = profile.faults.draw(rng)
    output_tokens, stop_reason = profile.draw_output_tokens(rng, request.max_tokens)
    texts = response_text(
        request.prompt, output_tokens, profile.fidelity, profile.tokens_per_delta, rng
    )
    written = token_count(texts)
    if written < output_tokens:  # a summary that ended before the drawn length: a natural end
        output_tokens, stop_reason = written, "end_turn"
    ttft = profile.draw_ttft_ns(rng)
    if fault == "stall":
        ttft += round(profile.faults.stall_ms * 1_000_000)
    gaps = [profile.draw_itl_ns(rng) for _ in range(len(texts) - 1)]
    if fault == "slow_trickle":
        gaps = [round(gap * profile.faults.trickle_factor) for gap in gaps]
    return ResponsePlan(
        request_id=request_id,
        model_id=request.model_id,
        fault=fault,
        input_tokens=request.input_tokens,
        output_tokens=output_tokens,
        stop_reason="max_tokens" if stop_reason == "max_tokens" else "end_turn",
        texts=texts,
        ttft_ns=ttft,
        gaps_ns=gaps,
        latency_optimized=latency_optimized,
    )
