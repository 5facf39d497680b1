"""One sweep stage judged: did the endpoint keep up (saturation), did it meet the SLOs, and
what did it deliver (goodput, tokens, cost) at that rate.

Everything comes from the stage's own report.json (as `run` wrote it) and samples.jsonl, so a
stage can be judged again offline. The criteria are described in docs/sweep.md.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadgen.config.scenario import Scenario
from loadgen.config.thresholds import Check
from loadgen.core.sample import ErrorClass, Sample
from loadgen.report.schema import Report

# Per request, a check on one of these metrics is read from the request's own figure; checks
# on rates (error_rate, throttle_rate) and aggregates have no per-request meaning.
_PER_REQUEST_US = {
    "ttft": "ttft_service_us",
    "ttft_response": "ttft_response_us",
    "ttlt": "ttlt_service_us",
    "ttlt_response": "ttlt_response_us",
    "tpot": "tpot_us",
}
MIN_SAMPLES_FOR_TREND = 9
GENERATOR_LIMITED = "generator-limited"
MIN_TTFT_GROWTH_MS = 10.0  # below this, a TTFT "trend" is jitter, not a queue
ACHIEVED_SHARE = 0.95  # sends/s below this share of the rate: the generator fell behind


@dataclass
class StageResult:
    rate: float
    out_dir: str
    status: str
    saturated: bool
    reasons: list[str]
    breaker_tripped: bool
    thresholds_passed: bool | None  # None: the scenario sets no thresholds
    failed_checks: list[str]
    achieved_rps: float | None
    throughput_rps: float | None
    goodput_rps: float | None
    ttft_p50_ms: float | None  # response time (from the intended start): queueing shows here
    ttft_p95_ms: float | None  # service time, as thresholds read it
    ttft_growth: float | None
    error_rate: float | None
    throttle_rate: float | None
    input_tokens_mean: float | None
    output_tokens_mean: float | None
    cost_per_request_usd: float | None
    quota: dict[str, Any] = field(default_factory=dict)

    @property
    def meets_slos(self) -> bool:
        """Every threshold passed, and the endpoint kept up (a queue growing without bound
        meets no SLO for long, however short the stage)."""
        return self.thresholds_passed is not False and not self.saturated

    @property
    def generator_limited_only(self) -> bool:
        """Saturated, but only because the generator fell behind."""
        return self.saturated and all(r.startswith(GENERATOR_LIMITED) for r in self.reasons)

    def quota_tokens_per_request(self, quota: dict[str, Any]) -> float | None:
        """Tokens a request takes from a TPM quota: input + output * burndown."""
        if self.input_tokens_mean is None or self.output_tokens_mean is None:
            return None
        burndown = quota.get("output_burndown") or 1.0
        return self.input_tokens_mean + self.output_tokens_mean * burndown

    def capacity_json(self) -> dict[str, Any]:
        """What running at this rate means: load on the quota, goodput and cost."""
        tokens = self.quota_tokens_per_request(self.quota)
        rpm = self.rate * 60
        tpm = None if tokens is None else tokens * self.rate * 60
        quota_rpm, quota_tpm = self.quota.get("rpm"), self.quota.get("tpm")
        per_hour = (
            None
            if self.cost_per_request_usd is None
            else self.cost_per_request_usd * self.rate * 3600
        )
        return {
            "rate_rps": self.rate,
            "goodput_rps": self.goodput_rps,
            "throughput_rps": self.throughput_rps,
            "requests_per_minute": round(rpm, 3),
            "tokens_per_minute": None if tpm is None else round(tpm, 1),
            "quota_rpm_share": None if not quota_rpm else round(rpm / quota_rpm, 4),
            "quota_tpm_share": None if not quota_tpm or tpm is None else round(tpm / quota_tpm, 4),
            "cost_per_request_usd": self.cost_per_request_usd,
            "cost_per_1k_requests_usd": _maybe(self.cost_per_request_usd, 1000),
            "cost_per_hour_usd": None if per_hour is None else round(per_hour, 6),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "rate": self.rate,  # req/s; the key rate-keyed renderers look for
            "out_dir": self.out_dir,
            "status": self.status,
            "saturated": self.saturated,
            "saturation_reasons": self.reasons,
            "thresholds_passed": self.thresholds_passed,
            "failed_checks": self.failed_checks,
            "meets_slos": self.meets_slos,
            "achieved_rps": self.achieved_rps,
            "throughput_rps": self.throughput_rps,
            "goodput_rps": self.goodput_rps,
            "ttft_response_p50_ms": self.ttft_p50_ms,
            "ttft_p95_ms": self.ttft_p95_ms,
            "ttft_growth": self.ttft_growth,
            "error_rate": self.error_rate,
            "throttle_rate": self.throttle_rate,
            "input_tokens_mean": self.input_tokens_mean,
            "output_tokens_mean": self.output_tokens_mean,
            "capacity": self.capacity_json(),
        }

    def one_line(self, model: str) -> str:
        verdict = "meets SLOs" if self.meets_slos else "misses SLOs"
        if self.saturated:
            verdict = "saturated: " + "; ".join(self.reasons)
        elif self.failed_checks:
            verdict += " (" + ", ".join(self.failed_checks) + ")"
        return (
            f"{model} @ {self.rate:g} req/s: goodput {_fmt(self.goodput_rps)} req/s, "
            f"TTFT p50 {_fmt(self.ttft_p50_ms)} ms (response), {verdict}"
        )


def assess_stage(
    report: Report,
    model: str,
    rate: float,
    stage_dir: Path,
    scenario: Scenario,
    quota: dict[str, Any],
) -> StageResult:
    settings = scenario.sweep
    section = report["models"].get(model)  # None: the stage measured nothing of it
    requests = None if section is None else section["requests"]
    latency = None if section is None else section["latency_ms"]
    generator = report["run"]["generator"]
    samples = _measured_samples(stage_dir / "samples.jsonl", model)
    ok = [s for s in samples if s.ok]
    finished = [s for s in samples if s.end_us is not None]  # errors too: they were answered
    checks = [
        spec.parsed() for spec in scenario.thresholds if spec.model in (None, model)
    ]  # the same checks the stage's run evaluated
    window_s = _window_s(finished, ok, generator["scheduled_rps"] or rate)
    growth, first_ms, last_ms = _ttft_growth(ok)

    reasons: list[str] = []
    status = report["run"]["status"]
    reason = report["run"].get("status_reason") or ""
    breaker = status == "aborted" and reason.startswith("circuit breaker")
    if breaker:
        reasons.append(reason)
    sent = 0 if requests is None else requests["sent"]
    throttled = 0 if requests is None else requests["errors"]["throttled"]
    errors = sent - (0 if requests is None else requests["ok"]) - throttled
    if sent and errors / sent > settings.max_error_rate:
        reasons.append(f"error rate {errors / sent:.1%} > {settings.max_error_rate:.1%}")
    if sent and throttled / sent > settings.max_throttle_rate:
        reasons.append(f"throttle rate {throttled / sent:.1%} > {settings.max_throttle_rate:.1%}")
    # The stage's measured requests only: the first sends after setup are the warmup's.
    lag_p99 = None if latency is None else latency["schedule_lag"]["p99"]
    if lag_p99 is not None and lag_p99 > settings.max_lag_p99 * 1000:
        reasons.append(
            f"{GENERATOR_LIMITED}: schedule lag p99 {lag_p99:.1f} ms > "
            f"{settings.max_lag_p99 * 1000:g} ms"
        )
    # Poisson arrivals offer more or less than the rate in a short stage: judge the generator
    # and the endpoint against what the schedule actually offered.
    offered = generator["scheduled_rps"] or rate
    achieved = generator["achieved_rps"]
    if achieved is not None and sent >= 20 and achieved < ACHIEVED_SHARE * offered:
        reasons.append(
            f"{GENERATOR_LIMITED}: sent {achieved:.2f} req/s < {ACHIEVED_SHARE:.0%} of the "
            f"{offered:.2f} scheduled"
        )
    if generator["dropped"]:
        reasons.append(f"{GENERATOR_LIMITED}: {generator['dropped']} dropped at the in-flight cap")
    throughput = None if window_s is None else len(finished) / window_s
    if throughput is not None and throughput < settings.min_throughput_share * offered:
        reasons.append(
            f"throughput {throughput:.2f} req/s < {settings.min_throughput_share:.0%} of "
            f"{offered:.2f} req/s offered"
        )
    if (
        growth is not None
        and growth > settings.ttft_growth
        and last_ms - first_ms >= MIN_TTFT_GROWTH_MS
    ):
        reasons.append(
            f"TTFT growing: median {first_ms:.0f} ms in the first third, {last_ms:.0f} ms in "
            f"the last (x{growth:.1f})"
        )

    thresholds = report.get("thresholds")
    failed = (
        [] if not thresholds else [r["check"] for r in thresholds["results"] if not r["passed"]]
    )
    good = [s for s in ok if all(_request_meets(s, check) for check in checks)]
    tokens = None if section is None else section["tokens"]
    cost = None if section is None else section["cost"]
    return StageResult(
        rate=rate,
        out_dir=str(stage_dir),
        status=status,
        saturated=bool(reasons),
        reasons=reasons,
        breaker_tripped=breaker,
        thresholds_passed=None if not thresholds else bool(thresholds["passed"]),
        failed_checks=failed,
        achieved_rps=generator["achieved_rps"],
        throughput_rps=None if throughput is None else round(throughput, 3),
        goodput_rps=None if window_s is None else round(len(good) / window_s, 3),
        ttft_p50_ms=None if latency is None else latency["ttft"]["response"]["p50"],
        ttft_p95_ms=None if latency is None else latency["ttft"]["service"]["p95"],
        ttft_growth=None if growth is None else round(growth, 3),
        error_rate=None if requests is None else requests["error_rate"],
        throttle_rate=None if requests is None else requests["throttle_rate"],
        input_tokens_mean=None if tokens is None else tokens["input"]["mean"],
        output_tokens_mean=None if tokens is None else tokens["output"]["mean"],
        cost_per_request_usd=None if cost is None else cost["per_request"]["mean"],
        quota=quota,
    )


def _measured_samples(path: Path, model: str) -> list[Sample]:
    samples: list[Sample] = []
    if not path.exists():
        return samples
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            sample = Sample.from_json_dict(json.loads(line))
            if (
                sample.model == model
                and not sample.warmup
                and sample.error not in (ErrorClass.DROPPED, ErrorClass.CANCELLED)
            ):
                samples.append(sample)
    return samples


def _window_s(finished: list[Sample], ok: list[Sample], rate: float) -> float | None:
    """The span over which the stage's requests were answered: from the first intended
    start to the last byte, less one typical service time of a success (the tail every stage
    has), plus one gap. Without a queue it is the sending span; with one, it stretches."""
    ends = [s.end_us for s in finished if s.end_us is not None]
    service = [s.ttlt_service_us for s in ok if s.ttlt_service_us is not None]
    if not ends or not service:
        return None
    span_us = max(ends) - min(s.intended_us for s in finished) - statistics.median(service)
    return max(span_us / 1e6, 0.0) + 1 / rate


def _ttft_growth(ok: list[Sample]) -> tuple[float | None, float, float]:
    """Median TTFT (from the intended start) of the last third of the stage over the first's."""
    ordered = [
        s.ttft_response_us
        for s in sorted(ok, key=lambda s: s.intended_us)
        if s.ttft_response_us is not None
    ]
    if len(ordered) < MIN_SAMPLES_FOR_TREND:
        return None, 0.0, 0.0
    third = len(ordered) // 3
    first = statistics.median(ordered[:third]) / 1000
    last = statistics.median(ordered[-third:]) / 1000
    return (last / first if first > 0 else None), first, last


def _request_meets(sample: Sample, check: Check) -> bool:
    """A request meets a check it can be judged by alone; other checks do not apply to it."""
    if check.metric in _PER_REQUEST_US:
        value = getattr(sample, _PER_REQUEST_US[check.metric])
        return value is not None and check.holds(value / 1000)
    if check.metric == "cost_per_request":
        return sample.cost_usd is not None and check.holds(sample.cost_usd)
    return True


def _maybe(value: float | None, factor: float) -> float | None:
    return None if value is None else round(value * factor, 6)


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"
