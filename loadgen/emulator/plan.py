"""One request's plan: everything random about a response, drawn once, before any byte.

Every API encodes the same plan in its own format, so the timing and token counts a client
measures do not depend on which API it used; and with one seed and one arrival order, the
same plans come out.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

from loadgen.emulator.guardrail import GuardrailOutcome
from loadgen.emulator.profiles import FaultKind, Profile
from loadgen.emulator.prompt_cache import CacheUsage
from loadgen.emulator.request_options import NO_OPTIONS, RequestOptions, ServiceTier
from loadgen.emulator.text import response_text, token_count
from loadgen.emulator.tool_use import ToolCall

DeltaKind = Literal["reasoning", "text", "tool"]
# The service model's StopReason enum; draw_plan gives end_turn or max_tokens, stop_reasons.py
# the ones a profile's `stops` rates produce.
StopReason = Literal[
    "end_turn",
    "tool_use",
    "max_tokens",
    "stop_sequence",
    "guardrail_intervened",
    "content_filtered",
    "malformed_model_output",
    "malformed_tool_use",
    "model_context_window_exceeded",
]


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
    options: RequestOptions = NO_OPTIONS  # cache points, reasoning, tools, tier, guardrail


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
    # What the request's options made of the answer (options_plan.py); a plain request keeps
    # these defaults and is encoded exactly as before the options existed.
    options: bool = False  # the request asked for at least one option
    reasoning_texts: tuple[str, ...] = ()  # reasoning deltas, before the text
    signature: str = ""  # closes the reasoning block
    tool: ToolCall | None = None  # the toolUse block after the text
    cache: CacheUsage | None = None  # None: the request had no cache point
    service_tier: ServiceTier | None = None  # the tier that served, when one was asked
    guardrail: GuardrailOutcome | None = None

    def pieces(self) -> list[tuple[DeltaKind, str]]:
        """Each delta in the order written, with its kind: reasoning, then text, then the
        tool's input; one due instant each (due())."""
        if not self.options:
            return [("text", text) for text in self.texts]
        pieces: list[tuple[DeltaKind, str]] = [("reasoning", t) for t in self.reasoning_texts]
        pieces += [("text", text) for text in self.texts]
        if self.tool is not None:
            pieces += [("tool", chunk) for chunk in self.tool.deltas()]
        return pieces

    @property
    def reasoning_tokens(self) -> int:
        return sum(len(text.split()) for text in self.reasoning_texts)

    @property
    def reasoning_ns(self) -> int:
        """Planned time from the first reasoning delta to the first delta after the block."""
        return sum(self.gaps_ns[: len(self.reasoning_texts)]) if self.reasoning_texts else 0

    @property
    def usage(self) -> dict[str, int]:
        usage = {
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "totalTokens": self.input_tokens + self.output_tokens,
        }
        if self.cache is not None:  # TokenUsage: totalTokens counts cache reads and writes
            usage["cacheReadInputTokens"] = self.cache.read_tokens
            usage["cacheWriteInputTokens"] = self.cache.write_tokens
            usage["totalTokens"] += self.cache.read_tokens + self.cache.write_tokens
        return usage

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
            **(self.option_fields() if self.options else {}),
        }

    def option_fields(self) -> dict[str, Any]:
        """What the request's options did, for the request log (only when it asked for one,
        so that a plain request's line is as before)."""
        guardrail = self.guardrail
        return {
            "cache_read_tokens": self.cache.read_tokens if self.cache is not None else 0,
            "cache_write_tokens": self.cache.write_tokens if self.cache is not None else 0,
            "reasoning_tokens": self.reasoning_tokens,
            "reasoning_ms": round(self.reasoning_ns / 1e6, 3),
            "tool_use": self.tool.name if self.tool is not None else None,
            "guardrail_intervened": guardrail.intervened if guardrail is not None else None,
            "service_tier": self.service_tier,
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
