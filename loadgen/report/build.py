"""The JSON report: a versioned contract that other tools and later commands read.

Its shape is pinned by tests/golden/report_shape.json; change SCHEMA_VERSION with any change to
it and say what changed in docs/report.md.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, cast

from loadgen.config.scenario import HOURS_PER_MONTH
from loadgen.core.atomic_file import write_text_atomically
from loadgen.core.histogram import LATENCY_MAX_US, TOKENS_MAX, Histogram
from loadgen.core.report_parts import CloudWatchSection, HistogramSummary, LoadInfo, RunStatus
from loadgen.core.sample import ErrorClass
from loadgen.cost.accounting import COST_MAX_USD, UNITS_PER_USD, CostStats
from loadgen.record.model_stats import ModelStats
from loadgen.record.recorder import Recorder
from loadgen.report.answer_sections import answer_sections, read_answer_sections
from loadgen.report.schema import (
    REPORTED_ERRORS,
    ComparisonRow,
    CostSection,
    ErrorCounts,
    HdrEncodings,
    ModelSection,
    Report,
    RunCostSettings,
    TargetInfo,
    TokenSummary,
)
from loadgen.report.streaming_comparison import comparison_section
from loadgen.report.trust import assess_trust

SCHEMA_VERSION: Final = 3  # report.schema.SchemaVersion; docs/report.md "Changes"

# The generator is "limited" (its numbers understate what the endpoint could do) when:
LAG_P99_LIMIT_MS = 10.0
ACHIEVED_SHARE_LIMIT = 0.99
CPU_LIMIT_PERCENT = 90.0


def _no_cost() -> RunCostSettings:
    return {
        "budget_usd": None,
        "spent_usd": None,
        "project_rps": None,
        "hours_per_month": HOURS_PER_MONTH,
        "prices": {},
    }


@dataclass
class RunInfo:
    """What the orchestration knows about the run that the samples do not say."""

    scenario: str
    started_at: str
    ended_at: str
    status: RunStatus
    target: TargetInfo
    load: LoadInfo
    seed: int
    loadgen_version: str
    target_rps: float | None  # None in closed loop: the rate is an outcome there
    scheduled_rps: float | None  # what the schedule itself offered (Poisson varies around target)
    achieved_rps: float | None
    scheduled: int
    cancelled: int
    cpu_percent: float
    wall_s: float
    status_reason: str | None = None
    cost: RunCostSettings = field(default_factory=_no_cost)  # budget, guard's count, prices
    cloudwatch: CloudWatchSection | None = None  # what was published, and not, when enabled
    emulator: dict[str, object] | None = None
    notes: list[str] = field(default_factory=list)
    compared_api: str | None = None  # compare_streaming: the second API of the run
    run_id: str | None = None  # on each samples.jsonl line too (None: a run rebuilt without it)


def build_report(info: RunInfo, recorder: Recorder) -> Report:
    lag = recorder.schedule_lag.summary(scale=1000)
    limited_reasons = _limited_reasons(info, recorder, lag)
    models = model_sections(recorder.models, info.cost)
    report: Report = {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "scenario": info.scenario,
            "started_at": info.started_at,
            "ended_at": info.ended_at,
            "wall_s": round(info.wall_s, 3),
            "emulated": info.target.get("emulated", False),
            "status": info.status,
            "status_reason": info.status_reason,
            "target": info.target,
            "load": info.load,
            "seed": info.seed,
            "loadgen_version": info.loadgen_version,
            "warmup_requests": recorder.warmup,
            "generator": {
                "target_rps": info.target_rps,
                "scheduled_rps": _round(info.scheduled_rps),
                "achieved_rps": _round(info.achieved_rps),
                "scheduled": info.scheduled,
                "dispatched": recorder.dispatched,
                "dropped": recorder.dropped,
                "cancelled": info.cancelled,
                "lag_ms": {"p50": lag["p50"], "p99": lag["p99"], "max": lag["max"]},
                "cpu_percent": round(info.cpu_percent, 1),
                "limited": bool(limited_reasons),
                "limited_reasons": limited_reasons,
            },
            "cost": {**info.cost, "spend": recorder.spend.summary()},
            "cloudwatch": info.cloudwatch,
            "emulator": info.emulator,
            "notes": info.notes,
        },
        "models": models,
        "comparison": comparison_rows(models),
        "timeseries": recorder.series.to_json(),
        "streaming_comparison": comparison_section(
            info.target.get("api", "bedrock-converse-stream"),
            info.compared_api,
            models,
            model_sections(recorder.compared, info.cost),
        ),
        "quota": recorder.quota.section(),
    }
    if info.run_id is not None:
        report["run"]["run_id"] = info.run_id
    report["trust"] = assess_trust(report)  # again once the run's final status is known
    return report


def model_sections(
    stats: dict[str, ModelStats], run_cost: RunCostSettings
) -> dict[str, ModelSection]:
    """The report's "models": one section per model, from its histograms and counters. A live
    run and `loadgen merge` (which rebuilds the ModelStats from saved reports) both use this."""
    prices = run_cost.get("prices", {})
    project_rps = run_cost.get("project_rps")
    hours_per_month = run_cost.get("hours_per_month", HOURS_PER_MONTH)
    return {
        model: _model_report(
            data,
            priced=prices.get(model) is not None,
            project_rps=project_rps,
            hours_per_month=hours_per_month,
        )
        for model, data in stats.items()
    }


def comparison_rows(models: Mapping[str, ModelSection]) -> list[ComparisonRow]:
    return [_comparison_row(model, data) for model, data in models.items()]


def model_stats_from_section(section: ModelSection) -> ModelStats:
    """The inverse of a model section: its histograms and counters, read back from a report.

    Exact for everything the section is built from, except two things the report does not
    keep: which histogram each out-of-range value missed (only their total), and the instants
    of the measured window (only its length: the window is taken to start at 0).
    """
    stats = ModelStats()
    encoded: Mapping[str, object] = section["hdr"]  # by the histograms' own names
    for group, highest in ((stats.latency, LATENCY_MAX_US), (stats.tokens, TOKENS_MAX)):
        for name in group:
            if name in encoded:
                group[name] = Histogram.decode(_encoding(encoded[name]), highest)
    requests = section["requests"]
    stats.sent = requests["sent"]
    stats.ok = requests["ok"]
    errors = requests["errors"]
    stats.errors = Counter({name: errors[name] for name in REPORTED_ERRORS if errors[name]})
    if requests["dropped"]:
        stats.errors[ErrorClass.DROPPED.value] = requests["dropped"]
    if cancelled := requests.get("cancelled", 0):
        stats.errors[ErrorClass.CANCELLED.value] = cancelled
    stats.error_codes = Counter(requests["error_codes"])
    tokens = section["tokens"]
    stats.input_tokens_total = tokens["input"]["total"]
    stats.output_tokens_total = tokens["output"]["total"]
    stats.tokens_estimated = tokens["estimated_requests"]
    stats.carried_out_of_range = section["out_of_range"]
    stats.cost = _cost_stats_from_section(section["cost"], stats.sent, stats.ok)
    window_s = section["throughput"]["window_s"]
    if window_s is not None:
        stats.first_intended_us, stats.last_end_us = 0, round(window_s * 1e6)
    read_answer_sections(section, stats)
    return stats


def _encoding(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"an HDR encoding is a string, not {type(value).__name__}")
    return value


def _cost_stats_from_section(cost: CostSection | None, sent: int, ok: int) -> CostStats:
    stats = CostStats()
    stats.count, stats.ok = sent, ok
    if cost is None:  # an unpriced model: every request's cost was unknown
        stats.unpriced = sent
        return stats
    stats.total_usd = cost["total_usd"]
    stats.unpriced = cost["unpriced_requests"]
    stats.histogram = Histogram.decode(cost["hdr"], COST_MAX_USD * UNITS_PER_USD)
    stats.histogram.out_of_range = cost["out_of_range"]
    # Every priced request was either free (exactly 0), recorded, or out of range.
    stats.zero = stats.priced - stats.histogram.count - stats.histogram.out_of_range
    return stats


def _model_report(
    stats: ModelStats, *, priced: bool, project_rps: float | None, hours_per_month: float
) -> ModelSection:
    latency = stats.latency
    window_s = _window_s(stats)
    completed = stats.sent
    # Answers the scenario leaves out of the latency figures leave the throughput too.
    counted_ok = stats.ok - stats.excluded
    counted_output = stats.output_tokens_total - stats.excluded_output_tokens
    cost: CostSection | None = None
    if priced:  # with the cost distribution itself, so that merges stay exact
        summary = stats.cost.summary(window_s, stats.ok, None, project_rps, hours_per_month)
        cost = {**summary, "hdr": stats.cost.histogram.encode()}
    section: ModelSection = {
        "requests": {
            "sent": stats.sent,
            "ok": stats.ok,
            "errors": _error_counts(stats.errors),
            "dropped": stats.errors.get(ErrorClass.DROPPED.value, 0),
            "cancelled": stats.errors.get(ErrorClass.CANCELLED.value, 0),
            "error_rate": _ratio(stats.sent - stats.ok, stats.sent),
            "throttle_rate": _ratio(stats.errors.get(ErrorClass.THROTTLED.value, 0), stats.sent),
            "error_codes": dict(sorted(stats.error_codes.items())),
        },
        "latency_ms": {
            "ttft": {
                "service": latency["ttft_service"].summary(1000),
                "response": latency["ttft_response"].summary(1000),
            },
            "ttlt": {
                "service": latency["ttlt_service"].summary(1000),
                "response": latency["ttlt_response"].summary(1000),
            },
            "itl": latency["itl"].summary(1000),
            "tpot": latency["tpot"].summary(1000),
            "schedule_lag": latency["schedule_lag"].summary(1000),
            "client_prep": latency["client_prep"].summary(1000),
            "pool_wait": latency["pool_wait"].summary(1000),
            "server_latency": latency["server_latency"].summary(1000),
            "server_first_byte": latency["server_first_byte"].summary(1000),
            "client_overhead": latency["client_overhead"].summary(1000),
            "ttfa": latency["ttfa_service"].summary(1000),
        },
        "tokens": {
            "input": _token_summary(stats.input_tokens_total, stats.tokens["input_tokens"]),
            "output": _token_summary(stats.output_tokens_total, stats.tokens["output_tokens"]),
            "estimated_requests": stats.tokens_estimated,
        },
        "throughput": {
            "window_s": _round(window_s),
            "requests_per_s": _round(completed / window_s if window_s else None),
            "ok_per_s": _round(counted_ok / window_s if window_s else None),
            "output_tokens_per_s": _round(counted_output / window_s if window_s else None),
        },
        "cost": cost,
        "out_of_range": stats.out_of_range,
        "hdr": _encodings({**latency, **stats.tokens}),
    }
    answer_sections(stats, section)
    return section


def _error_counts(errors: Counter[str]) -> ErrorCounts:
    return {
        "throttled": errors[ErrorClass.THROTTLED.value],
        "client": errors[ErrorClass.CLIENT.value],
        "server": errors[ErrorClass.SERVER.value],
        "timeout": errors[ErrorClass.TIMEOUT.value],
        "connection": errors[ErrorClass.CONNECTION.value],
        "protocol": errors[ErrorClass.PROTOCOL.value],
    }


def _encodings(histograms: dict[str, Histogram]) -> HdrEncodings:
    """Each histogram that recorded something, under its own name (ModelStats's names are
    HdrEncodings' keys: a real run's report is checked against the schema in the tests)."""
    encoded = {
        name: histogram.encode() for name, histogram in histograms.items() if histogram.count
    }
    return cast(HdrEncodings, encoded)


def _comparison_row(model: str, data: ModelSection) -> ComparisonRow:
    """One line of the side-by-side table: what a team weighs when it picks a model."""
    latency = data["latency_ms"]
    cost = data["cost"]
    return {
        "model": model,
        "cost_per_1k_answered_usd": None if cost is None else cost["per_1k_answered_usd"],
        "cost_per_1k_sent_usd": None if cost is None else cost["per_1k_sent_usd"],
        "ttft_p50_ms": latency["ttft"]["service"]["p50"],
        "ttft_p95_ms": latency["ttft"]["service"]["p95"],
        "ttlt_p95_ms": latency["ttlt"]["service"]["p95"],
        "output_tokens_per_s": data["throughput"]["output_tokens_per_s"],
        "error_rate": data["requests"]["error_rate"],
    }


def _token_summary(total: int, histogram: Histogram) -> TokenSummary:
    summary = histogram.summary()
    return {"total": total, "mean": summary["mean"], "p50": summary["p50"], "p99": summary["p99"]}


def _window_s(stats: ModelStats) -> float | None:
    """From the first measured request's scheduled start to the last measured byte."""
    if stats.first_intended_us is None or stats.last_end_us is None:
        return None
    return max(stats.last_end_us - stats.first_intended_us, 1) / 1e6


def _limited_reasons(info: RunInfo, recorder: Recorder, lag: HistogramSummary) -> list[str]:
    reasons = []
    closed_loop = info.load.get("loop") == "closed"  # lag means nothing without a schedule
    if not closed_loop and lag["p99"] is not None and lag["p99"] > LAG_P99_LIMIT_MS:
        reasons.append(f"schedule lag p99 {lag['p99']} ms > {LAG_P99_LIMIT_MS} ms")
    if recorder.dropped:
        reasons.append(f"{recorder.dropped} requests dropped at the in-flight cap")
    if (
        info.scheduled_rps
        and info.achieved_rps is not None
        and recorder.dispatched >= 20
        and info.achieved_rps < ACHIEVED_SHARE_LIMIT * info.scheduled_rps
    ):
        reasons.append(
            f"achieved {info.achieved_rps:.2f} req/s < 99 % of the "
            f"{info.scheduled_rps:.2f} req/s scheduled"
        )
    if info.cpu_percent > CPU_LIMIT_PERCENT:
        reasons.append(f"generator CPU {info.cpu_percent:.0f} % of a core")
    return reasons


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def write_json_atomically(path: Path, data: Mapping[str, object]) -> None:
    """A reader never sees half a report: write aside, then rename over."""
    write_text_atomically(path, json.dumps(data, indent=2) + "\n")
