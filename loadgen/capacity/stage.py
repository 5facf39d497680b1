"""One sweep stage judged: did the endpoint keep up (saturation), does its rate fit the quota
on whole quota windows (quota_window.py), did it meet the SLOs, what bound it if not, and what
did it deliver (goodput, tokens, cost) at that rate.

Everything comes from the stage's own report.json (as `run` wrote it) and samples.jsonl, so a
stage can be judged again offline. The criteria are described in docs/sweep.md.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loadgen.capacity.judging import (
    GENERATOR_LIMITED,
    Bound,
    StageEvidence,
    saturation_reasons,
    stage_bound,
)
from loadgen.capacity.quota_window import (
    KnownQuota,
    StageQuotaUse,
    WindowJudgement,
    WindowRule,
    judge_window,
)
from loadgen.config.scenario import Scenario
from loadgen.config.thresholds import Check, parse_check
from loadgen.core.sample import ErrorClass, Sample
from loadgen.report.html.sweep_words import stage_verdict
from loadgen.report.html.tables import fmt
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
# A stage's verdict, in the words the console, sweep.json and sweep.html use.
SATURATED, QUOTA_BOUND, MEETS_SLOS, MISSES_SLOS, NO_SLOS = (
    "saturated",
    "quota-bound",
    "meets SLOs",
    "misses SLOs",
    "kept up; no SLOs given",
)
# How a response that stopped at its max_tokens says so: Bedrock's stopReason, OpenAI's.
_STOPPED_AT_MAX_TOKENS = ("max_tokens", "length")


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
    offered_rps: float  # what the schedule offered: Poisson varies around `rate`
    completed: int  # answered (errors too) over the stage's window
    throughput_rps: float | None
    throughput_interval: tuple[float, float] | None  # 95 % interval of the completion rate
    goodput_rps: float | None
    ttft_p50_ms: float | None  # response time (from the intended start): queueing shows here
    ttft_p95_ms: float | None  # service time, as thresholds read it
    ttft_growth: float | None
    error_rate: float | None
    throttle_rate: float | None
    input_tokens_mean: float | None
    output_tokens_mean: float | None
    cost_per_request_usd: float | None  # the mean per request sent: what spend per hour takes
    cost_per_1k_answered_usd: float | None  # the report's models.<id>.cost.per_1k_answered_usd
    duration_s: float | None = None  # measured time the stage ran (a short one is lengthened)
    quota: dict[str, Any] = field(default_factory=dict)
    # The stage on whole quota windows (quota_window.py); None: not judged on them.
    window: WindowJudgement | None = None
    # How the stage got a fresh quota window: the emulator's buckets reset, a wait, or none
    # needed (the stage before it stayed within the quota).
    fresh_window: str | None = None
    failed_metrics: list[str] = field(default_factory=list)  # the metrics of failed_checks
    max_tokens: int | None = None  # what each request asked for (and reserved)
    output_tokens_p99: float | None = None  # of the successful requests
    output_tokens_max: int | None = None
    reached_max_tokens: int = 0  # successful responses that stopped at max_tokens

    @property
    def quota_bound(self) -> bool:
        """Its rate is more than the quota allows, on whole quota windows."""
        return self.window is not None and self.window.quota_bound

    @property
    def window_rule(self) -> WindowRule | None:
        return None if self.window is None else self.window.rule

    @property
    def bound_by(self) -> Bound | None:
        """What kept the stage from being good; None when it was good."""
        if self.good:
            return None
        return stage_bound(
            quota_bound=self.quota_bound, reasons=self.reasons, failed_metrics=self.failed_metrics
        )

    @property
    def good(self) -> bool:
        """The endpoint kept up, the rate fits the quota and no threshold failed (a queue
        growing without bound meets no SLO for long, however short the stage; nor does a rate
        the quota refuses once its minute is spent): what the ladder climbs on."""
        return self.thresholds_passed is not False and not self.saturated and not self.quota_bound

    @property
    def meets_slos(self) -> bool | None:
        """None when there are no SLOs to meet: "meets SLOs" is said only of SLOs given."""
        return None if self.thresholds_passed is None else self.good

    @property
    def verdict(self) -> str:
        """The stage's verdict in words: QUOTA_BOUND, SATURATED, MEETS_SLOS, MISSES_SLOS or
        NO_SLOS."""
        if self.quota_bound:
            return QUOTA_BOUND
        if self.saturated:
            return SATURATED
        if self.thresholds_passed is None:
            return NO_SLOS
        return MEETS_SLOS if self.thresholds_passed else MISSES_SLOS

    @property
    def generator_limited_only(self) -> bool:
        """Saturated, but only because the generator fell behind."""
        return self.saturated and all(r.startswith(GENERATOR_LIMITED) for r in self.reasons)

    def quota_tokens_per_request(self, quota: dict[str, Any]) -> float | None:
        """Tokens a request takes from a TPM quota once settled: input + cache write + output
        x burndown, as the stage's quota accounting counted them (its model's burndown);
        without it, from the mean tokens and the quota's burndown."""
        if self.window is not None and self.window.use.settled_per_request is not None:
            return self.window.use.settled_per_request
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
            "cost_per_1k_answered_usd": self.cost_per_1k_answered_usd,
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
            "verdict": self.verdict,
            "bound_by": self.bound_by,
            "window_rule": self.window_rule,
            "quota_window": None if self.window is None else self.window.to_json(),
            "fresh_window": self.fresh_window,
            "duration_s": self.duration_s,
            "achieved_rps": self.achieved_rps,
            "offered_rps": self.offered_rps,
            "completed": self.completed,
            "throughput_rps": self.throughput_rps,
            "throughput_interval_rps": (
                None if self.throughput_interval is None else list(self.throughput_interval)
            ),
            "goodput_rps": self.goodput_rps,
            "ttft_response_p50_ms": self.ttft_p50_ms,
            "ttft_p95_ms": self.ttft_p95_ms,
            "ttft_growth": self.ttft_growth,
            "error_rate": self.error_rate,
            "throttle_rate": self.throttle_rate,
            "input_tokens_mean": self.input_tokens_mean,
            "output_tokens_mean": self.output_tokens_mean,
            "output_tokens_p99": self.output_tokens_p99,
            "output_tokens_max": self.output_tokens_max,
            "max_tokens": self.max_tokens,
            "reached_max_tokens": self.reached_max_tokens,
            "capacity": self.capacity_json(),
        }

    def verdict_text(self) -> str:
        """The verdict with its why, in the words sweep.json's readers print: the quota's or
        the saturation's reasons, or the checks that failed; the window rule's note where it
        judged on latency alone."""
        return stage_verdict(self.to_json())

    def one_line(self, model: str) -> str:
        return (
            f"{model} @ {fmt(self.rate)} req/s: goodput {fmt(self.goodput_rps)} req/s, "
            f"TTFT p50 {fmt(self.ttft_p50_ms)} ms (response), {self.verdict_text()}"
        )


def assess_stage(
    report: Report,
    model: str,
    rate: float,
    stage_dir: Path,
    scenario: Scenario,
    quota: dict[str, Any],
    *,
    fresh_window: str | None = None,
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
    # Poisson arrivals offer more or less than the rate in a short stage: judge the generator
    # and the endpoint against what the schedule actually offered.
    offered = generator["scheduled_rps"] or rate
    window_s = _window_s(finished, ok, offered)
    growth, first_ms, last_ms = _ttft_growth(ok)
    status = report["run"]["status"]
    reason = report["run"].get("status_reason") or ""
    breaker = status == "aborted" and reason.startswith("circuit breaker")
    sent = 0 if requests is None else requests["sent"]
    throttled = 0 if requests is None else requests["errors"]["throttled"]
    evidence = StageEvidence(
        offered_rps=offered,
        sent=sent,
        errors=sent - (0 if requests is None else requests["ok"]) - throttled,
        throttled=throttled,
        completed=len(finished),
        window_s=window_s,
        achieved_rps=generator["achieved_rps"],
        dropped=generator["dropped"],
        # The stage's measured requests only: the first sends after setup are the warmup's.
        lag_p99_ms=None if latency is None else latency["schedule_lag"]["p99"],
        breaker_reason=reason if breaker else None,
        ttft_growth=growth,
        ttft_first_ms=first_ms,
        ttft_last_ms=last_ms,
    )
    reasons = saturation_reasons(evidence, settings)
    throughput, interval = evidence.throughput_rps, evidence.throughput_interval

    thresholds = report.get("thresholds")
    failed = (
        [] if not thresholds else [r["check"] for r in thresholds["results"] if not r["passed"]]
    )
    good = [s for s in ok if all(_request_meets(s, check) for check in checks)]
    tokens = None if section is None else section["tokens"]
    cost = None if section is None else section["cost"]
    duration_s = report["run"].get("load", {}).get("duration")
    accounted = report.get("quota", {}).get("models", {}).get(model)
    admitted = 0 if accounted is None else accounted["requests"]
    window = judge_window(
        StageQuotaUse(
            rate=rate,
            duration_s=duration_s,
            reserved_per_request=(
                accounted["reserved_tokens"] / admitted if accounted and admitted else None
            ),
            settled_per_request=(
                accounted["settled_tokens"] / admitted if accounted and admitted else None
            ),
            in_flight_s=_in_flight_s(finished),
        ),
        KnownQuota(tpm=quota.get("tpm"), rpm=quota.get("rpm"), source=quota.get("source")),
    )
    outputs = sorted(s.output_tokens for s in ok if s.output_tokens is not None)
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
        offered_rps=offered,
        completed=len(finished),
        throughput_rps=None if throughput is None else round(throughput, 3),
        throughput_interval=(
            None if interval is None else (round(interval[0], 3), round(interval[1], 3))
        ),
        goodput_rps=None if window_s is None else round(len(good) / window_s, 3),
        ttft_p50_ms=None if latency is None else latency["ttft"]["response"]["p50"],
        ttft_p95_ms=None if latency is None else latency["ttft"]["service"]["p95"],
        ttft_growth=None if growth is None else round(growth, 3),
        error_rate=None if requests is None else requests["error_rate"],
        throttle_rate=None if requests is None else requests["throttle_rate"],
        input_tokens_mean=None if tokens is None else tokens["input"]["mean"],
        output_tokens_mean=None if tokens is None else tokens["output"]["mean"],
        cost_per_request_usd=None if cost is None else cost["per_sent_request"]["mean"],
        cost_per_1k_answered_usd=None if cost is None else cost["per_1k_answered_usd"],
        duration_s=duration_s,
        quota=quota,
        window=window,
        fresh_window=fresh_window,
        failed_metrics=[_metric_of(text, checks) for text in failed],
        max_tokens=None if accounted is None else accounted["max_tokens"],
        output_tokens_p99=_p99(outputs),
        output_tokens_max=outputs[-1] if outputs else None,
        reached_max_tokens=sum(1 for s in ok if s.stop_reason in _STOPPED_AT_MAX_TOKENS),
    )


def _in_flight_s(finished: list[Sample]) -> float | None:
    """Mean seconds from send to the last byte: how long a request held its reservation."""
    held = [
        s.end_us - s.send_us for s in finished if s.send_us is not None and s.end_us is not None
    ]
    return statistics.fmean(held) / 1e6 if held else None


def _p99(ordered: list[int]) -> float | None:
    """The 99th percentile (nearest rank) of sorted values."""
    return None if not ordered else float(ordered[math.ceil(0.99 * len(ordered)) - 1])


def _metric_of(text: str, checks: list[Check]) -> str:
    """The metric a failed check (as the report names it) is on."""
    for check in checks:
        if check.text == text:
            return check.metric
    try:
        return parse_check(text).metric
    except ValueError:
        return text


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
