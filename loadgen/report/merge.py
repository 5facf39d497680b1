"""`loadgen merge`: one report from runs made side by side by several processes or machines.

Exact where it can be: HDR histograms are added bucket by bucket and percentiles recomputed from
the sums, counters and costs are summed, and each model's section is built by the same code as
a live run's (report.model_sections). The parts are taken to have run at the same time: their
time series are added second by second from each run's own start, rates are summed, and the
measured window is the longest of theirs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from loadgen.config.scenario import HOURS_PER_MONTH
from loadgen.config.thresholds import evaluate, parse_check, report_section
from loadgen.core.atomic_file import replaced_atomically
from loadgen.core.errors import ConfigError
from loadgen.core.histogram import LATENCY_MAX_US, Histogram
from loadgen.core.report_parts import CloudWatchSection, ThresholdsSection, TimeSeriesSection
from loadgen.core.run_id import new_run_id
from loadgen.cost.run_spend import merged_spend
from loadgen.record.model_stats import ModelStats
from loadgen.record.quota_usage import merge_quota_sections
from loadgen.record.time_series import CountSeries, TimeSeries
from loadgen.report.build import (
    SCHEMA_VERSION,
    comparison_rows,
    model_sections,
    write_json_atomically,
)
from loadgen.report.saved_run import (
    REPORT_FILE,
    SAMPLES_FILE,
    SavedRun,
    read_model_stats,
    reading,
)
from loadgen.report.schema import (
    LagSummary,
    LoadInfo,
    ModelSection,
    PriceInfo,
    Report,
    RunCost,
    RunSection,
)
from loadgen.report.trust import assess_trust

# When parts ended differently, the merged status is the most serious of theirs.
STATUS_ORDER = ("completed", "interrupted", "aborted")
# Runs on different machines: how far apart their clocks may be and their windows still meet.
OVERLAP_SLACK_S = 1.0


def merge_runs(
    runs: list[SavedRun], out_dir: Path, *, force: bool = False, allow_disjoint: bool = False
) -> Report:
    """Write the merged report.json (and samples.jsonl when every part has one) into out_dir."""
    check_mergeable(runs, out_dir, force=force, allow_disjoint=allow_disjoint)
    with reading(*runs):
        return _merge(runs, out_dir)


def _merge(runs: list[SavedRun], out_dir: Path) -> Report:
    reports = [run.report for run in runs]
    stats = _merged_model_stats(runs)
    run_section = _merged_run_section(runs, stats)
    timeseries = merge_timeseries(r["timeseries"] for r in reports)
    models = model_sections(stats, run_section["cost"])
    report: Report = {
        "schema_version": SCHEMA_VERSION,
        "run": run_section,
        "models": models,
        "comparison": comparison_rows(models),
        "timeseries": timeseries,
        "thresholds": _merged_thresholds(reports, models),
    }
    quotas = [r["quota"] for r in reports if "quota" in r]
    if quotas:  # reports before schema_version 3 have none
        report["quota"] = merge_quota_sections(quotas)
    report["trust"] = assess_trust(report)
    out_dir.mkdir(parents=True, exist_ok=True)
    samples = [run.samples_path for run in runs]
    if all(path is not None for path in samples):
        _concatenate([p for p in samples if p is not None], out_dir / SAMPLES_FILE)
    else:
        missing = [run.label for run, path in zip(runs, samples, strict=True) if path is None]
        run_section["notes"].append(f"no {SAMPLES_FILE} written: {', '.join(missing)} had none")
    write_json_atomically(out_dir / REPORT_FILE, report)
    return report


def _merged_thresholds(
    reports: list[Report], models: dict[str, ModelSection]
) -> ThresholdsSection | None:
    """The parts' thresholds judged again on the merged figures: a part passing on its own
    half of the load says nothing about the whole. Each (check, model) pair is kept as the
    parts recorded it; None when no part had thresholds."""
    pairs: dict[tuple[str, str], None] = {}
    for report in reports:
        section = report.get("thresholds")
        for result in section["results"] if section else []:
            pairs[(result["check"], result["model"])] = None
    if not pairs:
        return None
    checks = [parse_check(text, model) for text, model in pairs]
    return report_section(evaluate(checks, models))


def check_mergeable(
    runs: list[SavedRun], out_dir: Path, *, force: bool = False, allow_disjoint: bool = False
) -> None:
    """Refuse what cannot make one report (ConfigError, exit 2): fewer than two runs, the
    output among the inputs, one run given twice, runs that did not run at the same time
    (unless allow_disjoint), runs of different scenarios or schema versions (unless force)."""
    problems = []
    if len(runs) < 2:
        problems.append("give at least two runs to merge")
    inputs = {run.report_path.parent.resolve() for run in runs}
    if out_dir.resolve() in inputs:
        problems.append(f"-o {out_dir} is one of the runs being merged: choose a new folder")
    problems += _duplicates(runs)
    if problems:
        raise ConfigError(problems, "loadgen merge")
    with reading(*runs):
        problems += _incompatible(runs)
        if problems and not force:
            problems.append("these runs do not belong in one report; --force merges them anyway")
            raise ConfigError(problems, "loadgen merge")
        if not allow_disjoint and (apart := _not_side_by_side(runs)):
            raise ConfigError([apart], "loadgen merge")


def _incompatible(runs: list[SavedRun]) -> list[str]:
    problems = []
    first = runs[0].report
    for run in runs[1:]:
        for key, value, theirs in (
            ("schema_version", first["schema_version"], run.report["schema_version"]),
            ("scenario", first["run"]["scenario"], run.report["run"]["scenario"]),
        ):
            if value != theirs:
                problems.append(f"{run.label} has {key} {theirs!r}, {runs[0].label} has {value!r}")
    unknown = sorted({r.report["schema_version"] for r in runs} - {SCHEMA_VERSION}, key=str)
    if unknown:
        problems.append(f"schema_version {unknown} is not the {SCHEMA_VERSION} this loadgen reads")
    return problems


def _duplicates(runs: list[SavedRun]) -> list[str]:
    """One run given twice would count its requests twice. The same run is the same
    report.json (by its real path), the same report (a copy of the folder), or the same
    samples.jsonl; the parts of one --workers run differ in all three."""
    sizes = Counter(path.stat().st_size for path in _samples(runs))
    problems = []
    seen: dict[tuple[str, object], SavedRun] = {}
    for run in runs:
        keys: list[tuple[str, object]] = [
            ("the same report.json", run.report_path.resolve()),
            ("an identical report.json", _digest(json.dumps(run.report, sort_keys=True))),
        ]
        samples = run.samples_path
        if samples is not None and sizes[samples.stat().st_size] > 1:  # read only if it may be
            keys.append(("an identical samples.jsonl", _file_digest(samples)))
        same = next((key for key in keys if key in seen), None)
        if same is not None:
            first = seen[same].label
            which = "given twice" if first == run.label else f"the same run as {first}"
            problems.append(
                f"{run.label} is {which} ({same[0]}): merged twice, its requests would count "
                "twice; give each run once"
            )
        seen.update(dict.fromkeys(keys, run))
    return problems


def _samples(runs: list[SavedRun]) -> list[Path]:
    return [run.samples_path for run in runs if run.samples_path is not None]


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _not_side_by_side(runs: list[SavedRun]) -> str | None:
    """Why the runs cannot have run side by side (None when they could): merge adds their time
    series second by second from each one's start, and sums their rates, as for runs made at
    the same time. Their windows (run.started_at to run.ended_at) must overlap, give or take
    OVERLAP_SLACK_S for the clocks of different machines."""
    windows = [(_instant(run, "started_at"), _instant(run, "ended_at"), run) for run in runs]
    last_start = max(windows, key=lambda w: w[0])
    first_end = min(windows, key=lambda w: w[1])
    if (last_start[0] - first_end[1]).total_seconds() <= OVERLAP_SLACK_S:
        return None
    return (
        f"these runs did not run at the same time: {first_end[2].label} ended at "
        f"{_clock(first_end[1])} UTC, before {last_start[2].label} started at "
        f"{_clock(last_start[0])} UTC. merge adds runs made side by side (their time series "
        "second by second, their rates summed); pass --allow-disjoint to merge runs made one "
        "after another anyway"
    )


def _instant(run: SavedRun, key: str) -> datetime:
    value = run.report["run"][key]  # type: ignore[literal-required]
    try:
        instant = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ConfigError(
            [f"run.{key}: not a time such as 2026-01-31T12:00:00.000Z (found {value!r})"],
            str(run.report_path),
        ) from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _clock(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _merged_model_stats(runs: list[SavedRun]) -> dict[str, ModelStats]:
    merged: dict[str, ModelStats] = {}
    for run in runs:
        for model, section in run.report["models"].items():
            stats = read_model_stats(section, model, str(run.report_path))
            if model in merged:
                merged[model].merge(stats)
            else:
                merged[model] = stats
    return merged


def _merged_run_section(runs: list[SavedRun], stats: dict[str, ModelStats]) -> RunSection:
    parts = [run.report["run"] for run in runs]
    first = parts[0]
    generators = [p["generator"] for p in parts]
    limited_reasons = [
        f"{run.label}: {reason}"
        for run, generator in zip(runs, generators, strict=True)
        for reason in generator["limited_reasons"]
    ]
    status = max((p["status"] for p in parts), key=_status_rank)
    reasons = [
        f"{run.label}: {p['status_reason']}"
        for run, p in zip(runs, parts, strict=True)
        if p["status_reason"]
    ]
    section: RunSection = {
        "scenario": first["scenario"],
        "run_id": _merged_run_id(parts),
        "started_at": min(p["started_at"] for p in parts),
        "ended_at": max(p["ended_at"] for p in parts),
        "wall_s": max(p["wall_s"] for p in parts),
        "emulated": first["target"]["emulated"],
        "status": status,
        "status_reason": "; ".join(reasons) or None,
        "target": first["target"],
        "load": _merged_load(first["load"], [p["load"] for p in parts]),
        "seed": first["seed"],
        "loadgen_version": first["loadgen_version"],
        "warmup_requests": sum(p["warmup_requests"] for p in parts),
        "generator": {
            "target_rps": _sum(g["target_rps"] for g in generators),
            "scheduled_rps": _sum(g["scheduled_rps"] for g in generators),
            "achieved_rps": _sum(g["achieved_rps"] for g in generators),
            "scheduled": sum(g["scheduled"] for g in generators),
            "dispatched": sum(g["dispatched"] for g in generators),
            "dropped": sum(g["dropped"] for g in generators),
            "cancelled": sum(g["cancelled"] for g in generators),
            "lag_ms": _merged_lag(stats),
            "cpu_percent": max(g["cpu_percent"] for g in generators),  # each on its own core
            "limited": bool(limited_reasons),
            "limited_reasons": limited_reasons,
        },
        "cost": _merged_cost(p["cost"] for p in parts),
        "cloudwatch": _merged_cloudwatch([p["cloudwatch"] for p in parts]),
        "emulator": None,  # each part's emulator served only that part
        "notes": _merged_notes(runs),
    }
    # One provenance when every part has the same (the workers of one run); else none.
    provenances = [p.get("provenance") for p in parts]
    if provenances[0] is not None and all(p == provenances[0] for p in provenances):
        section["provenance"] = provenances[0]
    return section


def _merged_run_id(parts: list[RunSection]) -> str:
    """The parts' id when they share one (the workers of one run); else the merge is a run of
    its own (its samples.jsonl lines keep their own runs' ids)."""
    ids = {p.get("run_id") for p in parts}
    shared = ids.pop() if len(ids) == 1 else None
    return shared or new_run_id()


def _status_rank(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)


def _merged_lag(stats: dict[str, ModelStats]) -> LagSummary:
    """From the models' schedule-lag histograms: the measured requests (warmup is not in them)."""
    lag = Histogram(LATENCY_MAX_US)
    for model in stats.values():
        lag.merge(model.latency["schedule_lag"])
    summary = lag.summary(scale=1000)
    return {"p50": summary["p50"], "p99": summary["p99"], "max": summary["max"]}


def _merged_cost(costs: Iterable[RunCost]) -> RunCost:
    parts = list(costs)
    prices: dict[str, PriceInfo | None] = {}
    for part in parts:
        prices.update(part.get("prices", {}))
    return {
        "budget_usd": _sum(p.get("budget_usd") for p in parts),
        "spent_usd": _sum(p.get("spent_usd") for p in parts),
        "project_rps": parts[0].get("project_rps"),
        "hours_per_month": parts[0].get("hours_per_month", HOURS_PER_MONTH),
        "prices": prices,
        # A report from before schema_version 3 has no spend: counted as nothing spent.
        "spend": merged_spend([p["spend"] for p in parts if "spend" in p]),
    }


def _merged_cloudwatch(parts: list[CloudWatchSection | None]) -> CloudWatchSection | None:
    """What the parts published, added up; None when none published."""
    present = [p for p in parts if p is not None]
    if not present:
        return None
    last_errors = [p["last_error"] for p in present if p["last_error"] is not None]
    return {
        "published_data": sum(p["published_data"] for p in present),
        "failed_calls": sum(p["failed_calls"] for p in present),
        "dropped_data": sum(p["dropped_data"] for p in present),
        "last_error": last_errors[-1] if last_errors else None,
        # One scenario, one dashboard and one set of alarms, each part putting the same ones:
        # the first part's account of them stands for all.
        "dashboard": next((p["dashboard"] for p in present if p["dashboard"] is not None), None),
        "alarms": next((p["alarms"] for p in present if p["alarms"] is not None), None),
        "errors": list(dict.fromkeys(error for p in present for error in p["errors"])),
        "dry_run": any(p["dry_run"] for p in present),
        "complete": all(p["complete"] for p in present),
    }


def _merged_notes(runs: list[SavedRun]) -> list[str]:
    notes = [f"merged from {len(runs)} runs: {', '.join(run.label for run in runs)}"]
    seeds = [run.report["run"]["seed"] for run in runs]
    if len(set(seeds)) < len(seeds):
        # Same seed, same arrival instants: the parts sent in lockstep, not as one process would.
        notes.append(f"parts share a seed ({seeds}): their arrivals coincide; use distinct seeds")
    for run in runs:
        for note in run.report["run"]["notes"]:
            if note not in notes:
                notes.append(note)
    return notes


def merge_timeseries(series: Iterable[TimeSeriesSection]) -> TimeSeriesSection:
    """Add per-second series, each aligned on its own run's start (second 0 = its t0). The
    per-second detail (throttles, lag and latency percentiles) cannot be added: it is left out."""
    fields = TimeSeries.FIELDS
    seconds: dict[int, list[int]] = {}
    for part in series:
        for offset in range(len(part[fields[0]])):
            row = seconds.setdefault(part["start_s"] + offset, [0] * len(fields))
            for index, name in enumerate(fields):
                row[index] += part[name][offset]
    first, last = (min(seconds), max(seconds)) if seconds else (0, -1)
    rows = [seconds.get(s, [0] * len(fields)) for s in range(first, last + 1)]

    def column(name: CountSeries) -> list[int]:
        index = fields.index(name)
        return [row[index] for row in rows]

    return {
        "interval_s": 1,
        "start_s": first,
        "sends": column("sends"),
        "completions": column("completions"),
        "errors": column("errors"),
        "output_tokens": column("output_tokens"),
    }


def _concatenate(paths: list[Path], target: Path) -> None:
    with replaced_atomically(target) as out:
        for path in paths:
            with path.open("rb") as part:
                shutil.copyfileobj(part, out)
                size = part.tell()
                if size:
                    part.seek(size - 1)
                    if part.read(1) != b"\n":
                        out.write(b"\n")  # a part cut mid-line must not glue onto the next


def _sum(values: Iterable[float | None]) -> float | None:
    """The sum, or None when any part did not know its value."""
    items = list(values)
    if any(v is None for v in items):
        return None
    return _total(v for v in items if v is not None)


def _merged_load(first: LoadInfo, loads: list[LoadInfo]) -> LoadInfo:
    """Runs side by side add up: their rates (open loop) or their users (closed loop)."""
    merged = first.copy()
    if "rate" in first:
        merged["rate"] = _total(load.get("rate", 0.0) for load in loads)
    if "concurrency" in first:
        merged["concurrency"] = sum(load.get("concurrency", 0) for load in loads)
    return merged


def _total(values: Iterable[float]) -> float:
    return round(sum(values), 6)
