"""Sweep stages for the capacity tests: what a stage measured (StageEvidence), judged by the
sweep's own rules into a StageResult."""

from __future__ import annotations

from loadgen.capacity.judging import StageEvidence, saturation_reasons
from loadgen.capacity.stage import StageResult
from loadgen.config.scenario import SweepSpec

SETTINGS = SweepSpec()  # min_throughput_share 0.9


def make_evidence(offered: float, completed: int, window_s: float) -> StageEvidence:
    """A stage with no errors, no lag and a steady TTFT: only its throughput is in question."""
    return StageEvidence(
        offered_rps=offered,
        sent=completed,
        errors=0,
        throttled=0,
        completed=completed,
        window_s=window_s,
        achieved_rps=offered,
        dropped=0,
        lag_p99_ms=1.0,
        breaker_reason=None,
        ttft_growth=1.0,
    )


def make_stage(
    rate: float,
    evidence: StageEvidence | None = None,
    *,
    ttft_p50_ms: float = 100.0,
    thresholds_passed: bool | None = None,
    failed_checks: tuple[str, ...] = (),
) -> StageResult:
    """The stage at `rate` judged from `evidence` (by default: 30 s that kept up exactly)."""
    evidence = evidence or make_evidence(rate, round(rate * 30), 30.0)
    reasons = saturation_reasons(evidence, SETTINGS)
    return StageResult(
        rate=rate,
        out_dir="",
        status="completed",
        saturated=bool(reasons),
        reasons=reasons,
        breaker_tripped=False,
        thresholds_passed=thresholds_passed,
        failed_checks=list(failed_checks),
        achieved_rps=evidence.achieved_rps,
        offered_rps=evidence.offered_rps,
        completed=evidence.completed,
        throughput_rps=evidence.throughput_rps,
        throughput_interval=evidence.throughput_interval,
        goodput_rps=evidence.throughput_rps,
        ttft_p50_ms=ttft_p50_ms,
        ttft_p95_ms=ttft_p50_ms,
        ttft_growth=1.0,
        error_rate=0.0,
        throttle_rate=0.0,
        input_tokens_mean=1_000.0,
        output_tokens_mean=359.7,
        cost_per_request_usd=0.0000123,
        cost_per_1k_answered_usd=0.0123,
    )
