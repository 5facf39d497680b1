"""`loadgen sweep`: a ladder of rates per model, each stage an ordinary run of the scenario.

A stage is `run_async` on the scenario with its load replaced by one open-loop rate (and one
model), so every stage has its own report.json and samples.jsonl, written by the same code as
any run. This module runs the stages and writes the summary (sweep.json, sweep.html); which
rate comes next is ladder.py's, how long a stage runs stage_length.py's, and how a stage is
judged stage.py's, judging.py's and quota_window.py's. Each stage starts from a fresh quota
window: under --emulate the emulator's buckets are reset before it; against a real account
the sweep waits out a minute after a stage that went past the quota. The method is described
in docs/sweep.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from loadgen.capacity.budget import SweepBudget
from loadgen.capacity.console import print_sweep
from loadgen.capacity.ladder import Ladder
from loadgen.capacity.max_tokens_advice import max_tokens_advice
from loadgen.capacity.quota_window import WINDOW_S, quota_allowed_rps
from loadgen.capacity.stage import StageResult, assess_stage
from loadgen.capacity.stage_length import MIN_STAGE_REQUESTS, stage_length
from loadgen.config.scenario import Scenario, SweepSpec, scenario_from_dict
from loadgen.core.event_loop import run_blocking
from loadgen.engine.backend import Backend
from loadgen.engine.stopping import ABORTED, INTERRUPTED
from loadgen.report.build import write_json_atomically
from loadgen.report.html.page import write_html
from loadgen.report.html.sweep import render_sweep
from loadgen.report.html.tables import fmt
from loadgen.report.schema import Report
from loadgen.run import EXIT_ABORTED, EXIT_INTERRUPTED, RunOptions, run_async
from loadgen.run.emulated import emulated_quota, start_emulator
from loadgen.run.setup import backend_for, prepare_out_dir

# 2: verdicts in words, throughput intervals, stage lengths, warnings; 3: quota windows
# (window_rule, quota_window, fresh_window), bound_by, the max_tokens advice
SCHEMA_VERSION = 3
RESET_PATH = "/_emulator/reset-quotas"  # the emulator's buckets full again, a fresh window
GENERATOR_RETRIES = 1
EXIT_OK = 0


@dataclass
class SweepOptions:
    out_dir: Path | None = None
    emulate: bool = False
    quiet: bool = False
    preflight: bool = True
    grace_s: float = 10.0
    # Fewer offered requests in stage_duration: the stage runs longer (stage_length.py).
    min_stage_requests: int = MIN_STAGE_REQUESTS
    # Read the account's quotas from Service Quotas for each stage (docs/quotas.md).
    quota_from_account: bool = False
    # Against a real account, how long to wait after a stage that went past its quota, so
    # that the next starts from a fresh window: a bucket refills in a minute.
    window_pause_s: float = WINDOW_S
    html: bool = True
    console: Console = field(default_factory=Console)


@dataclass
class SweepResult:
    summary: dict[str, Any]
    out_dir: Path
    exit_code: int


def sweep(scenario: Scenario, options: SweepOptions | None = None) -> SweepResult:
    """Run the whole sweep (blocks): every model of the scenario, one after another."""
    return run_blocking(sweep_async(scenario, options or SweepOptions()))


async def sweep_async(scenario: Scenario, options: SweepOptions) -> SweepResult:
    settings = scenario.sweep
    # A fresh, locked folder (reports/<name>-sweep-<UTC time>), or the one --out names.
    out_dir = prepare_out_dir(options.out_dir, f"{scenario.name}-sweep")
    summary: dict[str, Any] = {
        "scenario": scenario.name,
        "started_at": _utc_now(),
        "ended_at": None,
        "status": "running",
        "status_reason": None,
        "emulated": options.emulate,
        "settings": settings.model_dump(mode="json"),
        "min_stage_requests": options.min_stage_requests,
        "thresholds": [spec.check for spec in scenario.thresholds],
        "warnings": [],
        "models": {},
    }
    with contextlib.ExitStack() as stack:
        # One emulator for every stage: starting one per stage would cost seconds each. Its
        # quota buckets carry over from stage to stage, as a real account's do.
        emulator_url = None
        if options.emulate:
            emulator_url = stack.enter_context(start_emulator(scenario)).url
        backend = backend_for(scenario, emulator_url)
        await backend.start()
        try:
            exit_code = await _climb(scenario, options, out_dir, summary, emulator_url, backend)
        except (KeyboardInterrupt, asyncio.CancelledError):
            # Ctrl-C between stages (during one, the stage's run handles it): keep what ran.
            summary.update(status=INTERRUPTED, status_reason="interrupted between stages")
            summary["ended_at"] = _utc_now()
            _write(out_dir, summary, options)
            raise
        finally:
            await backend.close()
    summary["ended_at"] = _utc_now()
    if summary["status"] == "running":
        summary["status"] = "completed"
    _write(out_dir, summary, options)
    if not options.quiet:
        print_sweep(summary, options.console)
        options.console.print(f"sweep: {out_dir / 'sweep.json'}")
        if options.html:
            options.console.print(f"sweep: {out_dir / 'sweep.html'}")
    return SweepResult(summary=summary, out_dir=out_dir, exit_code=exit_code)


def _write(out_dir: Path, summary: dict[str, Any], options: SweepOptions) -> None:
    """sweep.json, then the page drawn from it (the page is built from the document alone, as
    `loadgen report --html` builds it again)."""
    document = _document(summary)
    write_json_atomically(out_dir / "sweep.json", document)
    if options.html:
        write_html(render_sweep(document), out_dir / "sweep.html")


async def _climb(
    scenario: Scenario,
    options: SweepOptions,
    out_dir: Path,
    summary: dict[str, Any],
    emulator_url: str | None,
    backend: Backend,
) -> int:
    """Every model's ladder, stage by stage; returns the exit code."""
    settings = scenario.sweep
    exit_code = EXIT_OK
    budget = SweepBudget(scenario.cost.max_usd)  # one for the whole sweep, not one per stage
    summary["budget"] = budget.to_json()
    for spec in scenario.models:
        model = spec.id
        quota = _quota(scenario, model, options.emulate)
        ladder = Ladder(settings)
        stages: list[StageResult] = []
        slos = [spec.check for spec in scenario.thresholds if spec.model in (None, model)]
        model_summary = summary["models"][model] = _model_summary(stages, quota, settings, slos)
        last: StageResult | None = None  # the stage run before (a retry's: its first run)
        while (rate := ladder.next_rate()) is not None:
            if (spent_all := budget.spent_all()) is not None:
                summary["status"], summary["status_reason"] = ABORTED, spent_all
                exit_code = EXIT_ABORTED
                break
            length = stage_length(rate, settings.stage_duration, options.min_stage_requests)
            if (warning := length.warning()) is not None:
                summary["warnings"].append(f"{model}: {warning}")
                if not options.quiet:
                    options.console.print(f"[yellow]warning: {warning}[/yellow]")
            for attempt in range(1 + GENERATOR_RETRIES):
                # A stage whose generator fell behind says nothing about the endpoint: run it
                # again (a passing stall of the machine), and keep the second verdict.
                suffix = "" if attempt == 0 else f"-retry{attempt}"
                stage_dir = out_dir / _safe(model) / f"rate-{rate:g}{suffix}"
                fresh = await _fresh_window(emulator_url, last, options)
                result = await run_async(
                    stage_scenario(
                        scenario, model, rate, length.duration_s, budget.stage_budget_usd()
                    ),
                    RunOptions(
                        out_dir=stage_dir,
                        shared_emulator_url=emulator_url,
                        shared_backend=backend,
                        quiet=True,
                        # a stage keeps report.json and samples.jsonl (docs/sweep.md); its
                        # page would cost ~0.7 s a stage, and sweep.html shows every stage
                        html=False,
                        grace_s=options.grace_s,
                        # each model is checked once, before its first stage
                        preflight=options.preflight and not stages and attempt == 0,
                        quota_from_account=options.quota_from_account,
                        console=options.console,
                    ),
                )
                quota = _with_account_quota(quota, result.report, model)
                stage = assess_stage(
                    result.report, model, rate, stage_dir, scenario, quota, fresh_window=fresh
                )
                last = stage
                budget.book(result.report)  # a stage run again was paid for twice
                summary["budget"] = budget.to_json()
                if (
                    not stage.generator_limited_only
                    or result.report["run"]["status"] != "completed"
                ):
                    break
                if not options.quiet:
                    options.console.print(stage.one_line(model) + "; running it again")
            stages.append(stage)
            # A rate the quota refuses is refused at every higher rate too: as saturated,
            # the higher rates of a given ladder are skipped.
            ladder.record(
                rate, meets_slos=stage.good, saturated=stage.saturated or stage.quota_bound
            )
            summary["models"][model] = model_summary = _model_summary(stages, quota, settings, slos)
            write_json_atomically(out_dir / "sweep.json", _document(summary))
            if not options.quiet:
                options.console.print(stage.one_line(model))
            status = result.report["run"]["status"]
            if status == INTERRUPTED or (status == ABORTED and not stage.breaker_tripped):
                summary["status"] = status
                summary["status_reason"] = result.report["run"]["status_reason"]
                exit_code = EXIT_INTERRUPTED if status == INTERRUPTED else EXIT_ABORTED
                break
        model_summary["stopped_because"] = ladder.stopped_because
        if exit_code != EXIT_OK:
            break
    return exit_code


def stage_scenario(
    scenario: Scenario,
    model: str,
    rate: float,
    duration_s: float | None = None,
    max_usd: float | None = None,
) -> Scenario:
    """The scenario as one stage runs it: this model alone, at one open-loop rate, for
    `duration_s` (default: the sweep's stage_duration), its budget guard given `max_usd`
    (what is left of the sweep's budget; None: the scenario's own)."""
    settings = scenario.sweep
    data = scenario.model_dump(mode="json", by_alias=True, exclude={"base_dir"})
    if max_usd is not None:
        data["cost"]["max_usd"] = max_usd
    data["models"] = [m for m in data["models"] if m["id"] == model]
    data["load"] = {
        "rate": rate,
        "arrival": scenario.load.arrival,
        "cv": scenario.load.cv,
        "duration": settings.stage_duration if duration_s is None else duration_s,
        "warmup": settings.stage_warmup,
        "max_in_flight": scenario.load.max_in_flight,
    }
    for section in ("thresholds", "requirements"):  # the checks that concern this model
        data[section] = [c for c in data[section] if c["model"] in (None, model)]
    return scenario_from_dict(data, base_dir=scenario.base_dir, source=f"sweep stage {rate:g}")


async def _fresh_window(
    emulator_url: str | None, previous: StageResult | None, options: SweepOptions
) -> str:
    """Start the next stage from a fresh quota window, and say how: the emulator's buckets
    reset; a wait of a minute after a stage that went past the quota of a real account
    (throttled, or its rate more than the quota allows), which a token bucket refills in and
    a fixed window ends in; or none needed, when the stage before stayed within the quota
    (its bucket stayed full) or there was none."""
    if emulator_url is not None:
        await asyncio.to_thread(_reset_emulator_quotas, emulator_url)
        return "emulator quotas reset"
    went_past = previous is not None and (
        previous.quota_bound or bool(previous.throttle_rate) or previous.bound_by == "quota"
    )
    if not went_past or options.window_pause_s <= 0:
        return "none needed"
    if not options.quiet:
        options.console.print(
            f"waiting {fmt(options.window_pause_s)} s: the stage before went past the quota, "
            "and the next starts from a fresh quota window"
        )
    await asyncio.sleep(options.window_pause_s)
    return f"waited {fmt(options.window_pause_s)} s"


def _reset_emulator_quotas(url: str) -> None:
    request = urllib.request.Request(f"{url}{RESET_PATH}", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def _quota(scenario: Scenario, model: str, emulate: bool) -> dict[str, Any]:
    """The quota the stage rates are set against: the emulator's under --emulate, else the
    scenario's sweep.quota (which --quota-rpm/--quota-tpm override), else the model's entry
    in the scenario's `quota:`. Without any, --quota-from-account may fill it in from the
    first stage's report (`_with_account_quota`)."""
    given = scenario.sweep.quota
    if emulate:
        emulated = emulated_quota(scenario, model)
        if emulated is not None:
            return {"source": "emulator", **emulated}
    if given.rpm or given.tpm:
        return {"source": "scenario", "rpm": given.rpm, "tpm": given.tpm, "output_burndown": 1.0}
    entry = scenario.quota.get(model)
    if entry is not None and (entry.rpm or entry.tpm):
        return {"source": "scenario", "rpm": entry.rpm, "tpm": entry.tpm, "output_burndown": 1.0}
    return {"source": None, "rpm": None, "tpm": None, "output_burndown": 1.0}


def _with_account_quota(quota: dict[str, Any], report: Report, model: str) -> dict[str, Any]:
    """A sweep without a quota of its own takes the one the stage's run was measured against
    (--quota-from-account): the quota is the account's, whichever stage read it."""
    if quota.get("source") is not None:
        return quota
    section = report.get("quota", {}).get("models", {}).get(model)
    limits = {} if section is None else section["limits"]
    per_minute = {name: limits[name] for name in ("rpm", "tpm") if name in limits}
    if not per_minute:
        return quota
    return {
        **quota,
        "source": next(iter(per_minute.values()))["source"],
        **{name: use["limit"] for name, use in per_minute.items()},
    }


def _model_summary(
    stages: list[StageResult], quota: dict[str, Any], settings: SweepSpec, slos: list[str]
) -> dict[str, Any]:
    by_rate = sorted(stages, key=lambda s: s.rate)
    meeting = [s for s in by_rate if s.good]
    best = meeting[-1] if meeting else None
    return {
        # The thresholds that concern this model; none: "highest_slo_rps" is the highest rate
        # that kept up, and no stage is said to meet SLOs.
        "slos": slos,
        "stages": [s.to_json() for s in stages],  # in the order they ran
        "knee_rps": knee_rps(by_rate, settings),
        "highest_slo_rps": None if best is None else best.rate,
        "at_highest_slo": None if best is None else best.capacity_json(),
        "quota": quota,
        "quota_limited_rps": _quota_rps(quota, best or (by_rate[0] if by_rate else None)),
        **_bound(by_rate, best),
        "max_tokens_advice": max_tokens_advice(by_rate, quota.get("tpm")),
        "stopped_because": None,
    }


def _bound(by_rate: list[StageResult], best: StageResult | None) -> dict[str, Any]:
    """What bound the model above its highest good rate: the first stage above it that was
    not good (or, when none was good, the lowest stage), its rate and its window rule. None
    while no stage above the highest good one ran."""
    above = [s for s in by_rate if not s.good and (best is None or s.rate > best.rate)]
    if not above:
        return {"bound_by": None, "bound_at_rps": None, "window_rule": None}
    first = above[0]
    return {
        "bound_by": first.bound_by,
        "bound_at_rps": first.rate,
        "window_rule": first.window_rule,
    }


def knee_rps(by_rate: list[StageResult], settings: SweepSpec) -> float | None:
    """The highest rate before the first stage where the endpoint stopped keeping up:
    saturated, quota-bound (the account would refuse it once a minute's quota is spent), or
    its median TTFT (from the intended start) above `ttft_growth` times the lowest-rate
    stage's. None while no stage has bent."""
    if not by_rate or by_rate[0].ttft_p50_ms is None:
        return None
    baseline = by_rate[0].ttft_p50_ms
    previous = None
    for stage in by_rate:
        bent = (
            stage.saturated
            or stage.quota_bound
            or (
                stage.ttft_p50_ms is not None
                and stage.ttft_p50_ms > settings.ttft_growth * baseline
            )
        )
        if bent:
            return previous
        previous = stage.rate
    return None


def _quota_rps(quota: dict[str, Any], stage: StageResult | None) -> float | None:
    """The highest request rate the quota allows, with the stage's tokens per request."""
    if stage is not None and stage.window is not None and stage.window.quota.known:
        allowed = quota_allowed_rps(stage.window.quota, stage.window.use)
        return None if allowed is None else round(allowed, 3)
    limits = []
    if quota.get("rpm"):
        limits.append(quota["rpm"] / 60)
    tokens = None if stage is None else stage.quota_tokens_per_request(quota)
    if quota.get("tpm") and tokens:
        limits.append(quota["tpm"] / 60 / tokens)
    return round(min(limits), 3) if limits else None


def _document(summary: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "sweep": summary}


def _safe(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", model)


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
