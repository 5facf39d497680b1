"""One turn number's figures across a model's conversations: how TTFT grows with the context.

A conversation's turn n sends the n - 1 answers before it back (docs/scenario.md
"Conversations"), so its input grows turn by turn; the report shows, per turn number, how
many answers came, their TTFT and their mean input tokens (docs/metrics.md "Turns")."""

from __future__ import annotations

from dataclasses import dataclass, field

from loadgen.core.histogram import LATENCY_MAX_US, Histogram


@dataclass
class TurnStats:
    requests: int = 0  # answered requests of this turn number
    ttft_service: Histogram = field(default_factory=lambda: Histogram(LATENCY_MAX_US))
    input_tokens_total: int = 0  # every input token: uncached, cache read and cache write
    input_requests: int = 0  # answers with usage, which input_tokens_total sums

    def add(self, ttft_us: int | None, input_tokens: int | None) -> None:
        self.requests += 1
        if ttft_us is not None:
            self.ttft_service.record(ttft_us)
        if input_tokens is not None:
            self.input_tokens_total += input_tokens
            self.input_requests += 1

    @property
    def input_tokens_mean(self) -> float | None:
        return self.input_tokens_total / self.input_requests if self.input_requests else None

    def merge(self, other: TurnStats) -> None:
        self.requests += other.requests
        self.ttft_service.merge(other.ttft_service)
        self.input_tokens_total += other.input_tokens_total
        self.input_requests += other.input_requests
