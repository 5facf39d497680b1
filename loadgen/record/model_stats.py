"""One model's figures: histograms and counters its measured Samples are folded into."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import get_args

from loadgen.core.histogram import LATENCY_MAX_US, TOKENS_MAX, Histogram
from loadgen.core.report_parts import LatencyName, TokenName
from loadgen.core.sample import ErrorClass, Sample
from loadgen.cost.accounting import CostStats
from loadgen.record.turn_stats import TurnStats

LATENCY_METRICS: tuple[LatencyName, ...] = get_args(LatencyName)
TOKEN_METRICS: tuple[TokenName, ...] = get_args(TokenName)


@dataclass
class ModelStats:
    """Everything the report says about one model, built from its measured samples."""

    latency: dict[str, Histogram] = field(
        default_factory=lambda: {name: Histogram(LATENCY_MAX_US) for name in LATENCY_METRICS}
    )
    tokens: dict[str, Histogram] = field(
        default_factory=lambda: {name: Histogram(TOKENS_MAX) for name in TOKEN_METRICS}
    )
    sent: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)
    input_tokens_total: int = 0
    output_tokens_total: int = 0
    tokens_estimated: int = 0
    cost: CostStats = field(default_factory=CostStats)
    first_intended_us: int | None = None
    last_end_us: int | None = None
    # Out-of-range values of a report read back from disk: the report keeps only their total.
    carried_out_of_range: int = 0
    # How answers ended (Bedrock's stopReason, OpenAI's finish_reason), answered requests only.
    stop_reasons: Counter[str] = field(default_factory=Counter)
    # The scenario's outcomes.exclude_from_latency: answers with these stop reasons are
    # counted, but left out of the latency histograms and the throughput (docs/metrics.md).
    exclude_from_latency: frozenset[str] = frozenset()
    excluded: int = 0
    excluded_output_tokens: int = 0
    service_tiers: Counter[str] = field(default_factory=Counter)  # as the responses said
    # Prompt caching, over the requests with usage (input_tokens_total's requests).
    cache_read_tokens_total: int = 0
    cache_write_tokens_total: int = 0
    cache_read_requests: int = 0  # requests that read anything from the cache
    # Reasoning, over answered requests with reasoning deltas or reasoning tokens.
    reasoning_requests: int = 0
    reasoning_tokens_total: int = 0
    reasoning_estimated: int = 0  # requests whose reasoning tokens were estimated
    tool_requests: int = 0  # answered requests with a tool-use delta
    turns: dict[int, TurnStats] = field(default_factory=dict)  # by turn number

    def add(self, sample: Sample) -> None:
        if sample.error is ErrorClass.DROPPED:
            self.errors[ErrorClass.DROPPED.value] += 1
            return
        if sample.error is ErrorClass.CANCELLED:
            # Counted apart, as the run's doing, not the endpoint's; a first token that came
            # still counts, or a stop would leave only the fast requests' TTFT.
            self.errors[ErrorClass.CANCELLED.value] += 1
            self._record_ttft(sample)
            return
        self.sent += 1
        self.cost.add(sample.cost_usd, sample.ok)
        if sample.error is None:
            self.ok += 1
            self._count_answer(sample)
        else:
            self.errors[sample.error.value] += 1
            if sample.error_code:
                self.error_codes[sample.error_code] += 1
        self._record_latencies(sample)
        if sample.input_tokens is not None:
            self.input_tokens_total += sample.input_tokens
            self.tokens["input_tokens"].record(sample.input_tokens)
            if sample.cache_read_tokens:
                self.cache_read_tokens_total += sample.cache_read_tokens
                self.cache_read_requests += 1
            if sample.cache_write_tokens:
                self.cache_write_tokens_total += sample.cache_write_tokens
        if sample.service_tier is not None:
            self.service_tiers[sample.service_tier] += 1
        if sample.output_tokens is not None:
            self.output_tokens_total += sample.output_tokens
            self.tokens["output_tokens"].record(sample.output_tokens)
        self.tokens_estimated += sample.tokens_estimated
        if self.first_intended_us is None or sample.intended_us < self.first_intended_us:
            self.first_intended_us = sample.intended_us
        if sample.end_us is not None and (
            self.last_end_us is None or sample.end_us > self.last_end_us
        ):
            self.last_end_us = sample.end_us

    def _record_latencies(self, sample: Sample) -> None:
        latency = self.latency
        latency["schedule_lag"].record(sample.schedule_lag_us)
        for name, value in (
            ("client_prep", sample.client_prep_us),
            ("pool_wait", sample.pool_wait_us),
        ):
            if value is not None:
                latency[name].record(value)
        # TTFT and TTLT of failed requests would mix two populations: only successes count.
        # A failed request still shows in the counters and in the time series.
        if sample.error is not None:
            return
        if self.exclude_from_latency and sample.stop_reason in self.exclude_from_latency:
            self.excluded += 1
            self.excluded_output_tokens += sample.output_tokens or 0
            if sample.turn is not None:
                self._turn(sample.turn).add(None, _all_input(sample))
            return
        self._record_ttft(sample)
        for name, value in (
            ("ttlt_service", sample.ttlt_service_us),
            ("ttlt_response", sample.ttlt_response_us),
            ("tpot", sample.tpot_us),
            ("ttfa_service", sample.ttfa_service_us),
            *_server_timings(sample),
        ):
            if value is not None:
                latency[name].record(value)
        latency["itl"].record_many(sample.itl_us)
        self._record_kinds_and_cache(sample)
        if sample.turn is not None:
            self._turn(sample.turn).add(sample.ttft_service_us, _all_input(sample))

    def _count_answer(self, sample: Sample) -> None:
        """What every answer counts, whether or not its latencies do."""
        if sample.stop_reason is not None:
            self.stop_reasons[sample.stop_reason] += 1
        if sample.first_reasoning_us is not None or sample.reasoning_tokens is not None:
            self.reasoning_requests += 1
            self.reasoning_tokens_total += sample.reasoning_tokens or 0
            self.reasoning_estimated += sample.reasoning_tokens_estimated
        if sample.first_tool_us is not None:
            self.tool_requests += 1

    def _record_kinds_and_cache(self, sample: Sample) -> None:
        """The reasoning time, the first tool-use delta, and TTFT split by cache hit or miss:
        each only where the sample has it (most have none)."""
        latency = self.latency
        if sample.first_reasoning_us is not None:
            reasoning = sample.reasoning_us
            if reasoning is not None:
                latency["reasoning"].record(reasoning)
        if sample.first_tool_us is not None and sample.send_us is not None:
            latency["first_tool"].record(sample.first_tool_us - sample.send_us)
        ttft = sample.ttft_service_us
        if ttft is not None and sample.input_tokens is not None:
            latency["ttft_cache_hit" if sample.cache_read_tokens else "ttft_cache_miss"].record(
                ttft
            )

    def _turn(self, turn: int) -> TurnStats:
        stats = self.turns.get(turn)
        if stats is None:
            stats = self.turns[turn] = TurnStats()
        return stats

    def _record_ttft(self, sample: Sample) -> None:
        for name, value in (
            ("ttft_service", sample.ttft_service_us),
            ("ttft_response", sample.ttft_response_us),
        ):
            if value is not None:
                self.latency[name].record(value)

    @property
    def out_of_range(self) -> int:
        histograms = [*self.latency.values(), *self.tokens.values()]
        return sum(h.out_of_range for h in histograms) + self.carried_out_of_range

    def merge(self, other: ModelStats) -> None:
        """Add another run's statistics of the same model: exact, as HDR histograms add."""
        for mine, theirs in ((self.latency, other.latency), (self.tokens, other.tokens)):
            for name, histogram in theirs.items():
                mine[name].merge(histogram)
        self.sent += other.sent
        self.ok += other.ok
        self.errors.update(other.errors)
        self.error_codes.update(other.error_codes)
        self.input_tokens_total += other.input_tokens_total
        self.output_tokens_total += other.output_tokens_total
        self.tokens_estimated += other.tokens_estimated
        self.cost.merge(other.cost)
        self.carried_out_of_range += other.carried_out_of_range
        self.stop_reasons.update(other.stop_reasons)
        self.exclude_from_latency |= other.exclude_from_latency
        self.excluded += other.excluded
        self.excluded_output_tokens += other.excluded_output_tokens
        self.service_tiers.update(other.service_tiers)
        self.cache_read_tokens_total += other.cache_read_tokens_total
        self.cache_write_tokens_total += other.cache_write_tokens_total
        self.cache_read_requests += other.cache_read_requests
        self.reasoning_requests += other.reasoning_requests
        self.reasoning_tokens_total += other.reasoning_tokens_total
        self.reasoning_estimated += other.reasoning_estimated
        self.tool_requests += other.tool_requests
        for turn, figures in other.turns.items():
            self._turn(turn).merge(figures)
        starts = [s for s in (self.first_intended_us, other.first_intended_us) if s is not None]
        ends = [e for e in (self.last_end_us, other.last_end_us) if e is not None]
        self.first_intended_us = min(starts) if starts else None
        self.last_end_us = max(ends) if ends else None


def _server_timings(sample: Sample) -> list[tuple[str, int | None]]:
    """The server's own timings in µs, and the client overhead beside them.

    The overhead is clamped at 0: the server rounds its figure to whole milliseconds and can
    read a little above what the client measured.
    """
    overhead = sample.client_overhead_us
    return [
        ("server_latency", _ms_to_us(sample.server_latency_ms)),
        ("server_first_byte", _ms_to_us(sample.server_first_byte_ms)),
        ("client_overhead", None if overhead is None else max(overhead, 0)),
    ]


def _all_input(sample: Sample) -> int | None:
    """Every input token the model took in: uncached, read from and written to the cache (a
    conversation's context grows in the cache reads once it is cached)."""
    if sample.input_tokens is None:
        return None
    return sample.input_tokens + (sample.cache_read_tokens or 0) + (sample.cache_write_tokens or 0)


def _ms_to_us(value: int | None) -> int | None:
    return None if value is None else value * 1000
