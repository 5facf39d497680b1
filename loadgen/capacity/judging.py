"""Did a sweep stage keep up? Every saturation rule of docs/sweep.md, in one function over
what the stage measured (`StageEvidence`), so a rule is added in one place; and what bound a
stage that was not good (`stage_bound`): the quota, the endpoint's throughput, the generator,
or an SLO. Whether a stage's rate fits its quota, on whole quota windows, is quota_window.py's.

The rules on counts (throughput) are judged with the count's confidence interval, never on
the bare figure: a short stage's Poisson noise is not a knee.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from loadgen.capacity.poisson import rate_interval
from loadgen.config.scenario import SweepSpec
from loadgen.config.thresholds import METRICS
from loadgen.report.html.tables import fmt

GENERATOR_LIMITED = "generator-limited"
THROTTLE_RATE = "throttle rate"  # how the throttle rule's reason starts
THROUGHPUT_CONFIDENCE = 0.95  # of the completion rate's interval
MIN_TTFT_GROWTH_MS = 10.0  # below this, a TTFT "trend" is jitter, not a queue
ACHIEVED_SHARE = 0.95  # sends/s below this share of the rate: the generator fell behind
MIN_SENT_FOR_ACHIEVED = 20  # fewer sends: their rate says nothing about the generator


@dataclass(frozen=True)
class StageEvidence:
    """What one stage measured, as the saturation rules read it."""

    offered_rps: float  # what the schedule offered (Poisson varies around the stage rate)
    sent: int
    errors: int  # answered with an error other than a throttle
    throttled: int
    completed: int  # answered, errors too, over `window_s`
    window_s: float | None  # None: nothing answered
    achieved_rps: float | None  # sends per second
    dropped: int  # at the in-flight cap
    lag_p99_ms: float | None
    breaker_reason: str | None  # the circuit breaker stopped the stage
    ttft_growth: float | None  # median TTFT of the last third over the first's
    ttft_first_ms: float = 0.0
    ttft_last_ms: float = 0.0

    @property
    def throughput_rps(self) -> float | None:
        return None if self.window_s is None else self.completed / self.window_s

    @property
    def throughput_interval(self) -> tuple[float, float] | None:
        """The completion rate's interval, counting completions as a Poisson count."""
        if self.window_s is None or self.window_s <= 0:
            return None
        return rate_interval(self.completed, self.window_s, THROUGHPUT_CONFIDENCE)


def saturation_reasons(evidence: StageEvidence, settings: SweepSpec) -> list[str]:
    """Why the stage did not keep up; empty when it did. A reason that starts with
    GENERATOR_LIMITED blames the machine that sent the load, not the endpoint."""
    reasons: list[str] = []
    if evidence.breaker_reason:
        reasons.append(evidence.breaker_reason)
    sent = evidence.sent
    if sent and evidence.errors / sent > settings.max_error_rate:
        reasons.append(f"error rate {evidence.errors / sent:.1%} > {settings.max_error_rate:.1%}")
    if sent and evidence.throttled / sent > settings.max_throttle_rate:
        reasons.append(
            f"{THROTTLE_RATE} {evidence.throttled / sent:.1%} > {settings.max_throttle_rate:.1%}"
        )
    lag, max_lag_ms = evidence.lag_p99_ms, settings.max_lag_p99 * 1000
    if lag is not None and lag > max_lag_ms:
        reasons.append(
            f"{GENERATOR_LIMITED}: schedule lag p99 {fmt(lag)} ms > {fmt(max_lag_ms)} ms"
        )
    offered, achieved = evidence.offered_rps, evidence.achieved_rps
    behind = achieved is not None and achieved < ACHIEVED_SHARE * offered
    if behind and achieved is not None and sent >= MIN_SENT_FOR_ACHIEVED:
        reasons.append(
            f"{GENERATOR_LIMITED}: sent {fmt(achieved)} req/s < {ACHIEVED_SHARE:.0%} of the "
            f"{fmt(offered)} scheduled"
        )
    if evidence.dropped:
        reasons.append(f"{GENERATOR_LIMITED}: {fmt(evidence.dropped)} dropped at the in-flight cap")
    if (reason := _throughput_reason(evidence, settings)) is not None:
        reasons.append(reason)
    growth = evidence.ttft_growth
    if (
        growth is not None
        and growth > settings.ttft_growth
        and evidence.ttft_last_ms - evidence.ttft_first_ms >= MIN_TTFT_GROWTH_MS
    ):
        reasons.append(
            f"TTFT growing: median {fmt(round(evidence.ttft_first_ms))} ms in the first third, "
            f"{fmt(round(evidence.ttft_last_ms))} ms in the last (x{growth:.1f})"
        )
    return reasons


def _throughput_reason(evidence: StageEvidence, settings: SweepSpec) -> str | None:
    """Saturated on throughput only when even the upper bound of the completion rate's
    interval is below `min_throughput_share` of the offered rate."""
    interval, throughput = evidence.throughput_interval, evidence.throughput_rps
    if interval is None or throughput is None:
        return None
    share = settings.min_throughput_share
    low, high = interval
    if high >= share * evidence.offered_rps:
        return None
    return (
        f"throughput {fmt(throughput)} req/s ({THROUGHPUT_CONFIDENCE:.0%} interval "
        f"{fmt(low)}-{fmt(high)}) < {share:.0%} of {fmt(evidence.offered_rps)} req/s offered"
    )


# What kept a stage from being good, in sweep.json's words (docs/sweep.md, "What bound it").
Bound = Literal["quota", "throughput", "generator", "latency", "slo"]
# A failed check on one of these metrics says the endpoint did not keep up; a duration's,
# that it was too slow; a cost's or quality's, that it missed another kind of SLO.
_THROUGHPUT_METRICS = {"error_rate", "requests_per_s", "ok_per_s", "output_tokens_per_s"}


def stage_bound(
    *, quota_bound: bool, reasons: Iterable[str], failed_metrics: Iterable[str]
) -> Bound | None:
    """Why the stage was not good, the strongest cause first: its rate is more than the quota
    allows (projected, or 429s past the limit), the endpoint did not keep up, the generator
    did not, a latency SLO missed, another SLO missed. None: the stage was good."""
    reasons, failed = list(reasons), set(failed_metrics)
    if (
        quota_bound
        or any(r.startswith(THROTTLE_RATE) for r in reasons)
        or ("throttle_rate" in failed)
    ):
        return "quota"
    if any(not r.startswith(GENERATOR_LIMITED) for r in reasons):
        return "throughput"
    if reasons:
        return "generator"
    if any(m in METRICS and METRICS[m].kind == "duration" for m in failed):
        return "latency"
    if failed & _THROUGHPUT_METRICS:
        return "throughput"
    return "slo" if failed else None
