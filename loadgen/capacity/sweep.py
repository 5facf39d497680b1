"""`loadgen sweep`: a ladder of rates per model, each stage an ordinary run of the scenario.

A stage is `run_async` on the scenario with its load replaced by one open-loop rate (and one
model), so every stage has its own report.json and samples.jsonl, written by the same code as
any run. This module only decides which rate comes next (sweep_ladder.py), judges each stage
(saturation, SLOs, goodput: sweep_stage.py) and writes the summary. The method is described in
docs/sweep.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from loadgen.capacity.ladder import Ladder
from loadgen.capacity.stage import StageResult, assess_stage
from loadgen.config.scenario import Scenario, SweepSpec, scenario_from_dict
from loadgen.core.event_loop import run_blocking
from loadgen.engine.backend import Backend
from loadgen.engine.stopping import ABORTED, INTERRUPTED
from loadgen.report.build import write_json_atomically
from loadgen.run import EXIT_ABORTED, EXIT_INTERRUPTED, RunOptions, run_async
from loadgen.run.emulated import emulated_quota, start_emulator
from loadgen.run.setup import backend_for, prepare_out_dir

SCHEMA_VERSION = 1
GENERATOR_RETRIES = 1
EXIT_OK = 0


@dataclass
class SweepOptions:
    out_dir: Path | None = None
    emulate: bool = False
    quiet: bool = False
    preflight: bool = True
    grace_s: float = 10.0
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
        "thresholds": [spec.check for spec in scenario.thresholds],
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
            write_json_atomically(out_dir / "sweep.json", _document(summary))
            raise
        finally:
            await backend.close()
    summary["ended_at"] = _utc_now()
    if summary["status"] == "running":
        summary["status"] = "completed"
    write_json_atomically(out_dir / "sweep.json", _document(summary))
    if not options.quiet:
        print_sweep(summary, options.console)
        options.console.print(f"sweep: {out_dir / 'sweep.json'}")
    return SweepResult(summary=summary, out_dir=out_dir, exit_code=exit_code)


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
    for spec in scenario.models:
        model = spec.id
        quota = _quota(scenario, model, options.emulate)
        ladder = Ladder(settings)
        stages: list[StageResult] = []
        model_summary = summary["models"][model] = _model_summary(stages, quota, settings)
        while (rate := ladder.next_rate()) is not None:
            for attempt in range(1 + GENERATOR_RETRIES):
                # A stage whose generator fell behind says nothing about the endpoint: run it
                # again (a passing stall of the machine), and keep the second verdict.
                suffix = "" if attempt == 0 else f"-retry{attempt}"
                stage_dir = out_dir / _safe(model) / f"rate-{rate:g}{suffix}"
                result = await run_async(
                    stage_scenario(scenario, model, rate),
                    RunOptions(
                        out_dir=stage_dir,
                        shared_emulator_url=emulator_url,
                        shared_backend=backend,
                        quiet=True,
                        grace_s=options.grace_s,
                        # each model is checked once, before its first stage
                        preflight=options.preflight and not stages and attempt == 0,
                        console=options.console,
                    ),
                )
                stage = assess_stage(result.report, model, rate, stage_dir, scenario, quota)
                if (
                    not stage.generator_limited_only
                    or result.report["run"]["status"] != "completed"
                ):
                    break
                if not options.quiet:
                    options.console.print(stage.one_line(model) + "; running it again")
            stages.append(stage)
            ladder.record(rate, meets_slos=stage.meets_slos, saturated=stage.saturated)
            summary["models"][model] = model_summary = _model_summary(stages, quota, settings)
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


def stage_scenario(scenario: Scenario, model: str, rate: float) -> Scenario:
    """The scenario as one stage runs it: this model alone, at one open-loop rate."""
    settings = scenario.sweep
    data = scenario.model_dump(mode="json", by_alias=True, exclude={"base_dir"})
    data["models"] = [m for m in data["models"] if m["id"] == model]
    data["load"] = {
        "rate": rate,
        "arrival": scenario.load.arrival,
        "cv": scenario.load.cv,
        "duration": settings.stage_duration,
        "warmup": settings.stage_warmup,
        "max_in_flight": scenario.load.max_in_flight,
    }
    for section in ("thresholds", "requirements"):  # the checks that concern this model
        data[section] = [c for c in data[section] if c["model"] in (None, model)]
    return scenario_from_dict(data, base_dir=scenario.base_dir, source=f"sweep stage {rate:g}")


def _quota(scenario: Scenario, model: str, emulate: bool) -> dict[str, Any]:
    """The quota the stage rates are set against: the emulator's under --emulate, else the
    scenario's sweep.quota (which --quota-rpm/--quota-tpm override)."""
    given = scenario.sweep.quota
    if emulate:
        emulated = emulated_quota(scenario, model)
        if emulated is not None:
            return {"source": "emulator", **emulated}
    source = "scenario" if given.rpm or given.tpm else None
    return {"source": source, "rpm": given.rpm, "tpm": given.tpm, "output_burndown": 1.0}


def _model_summary(
    stages: list[StageResult], quota: dict[str, Any], settings: SweepSpec
) -> dict[str, Any]:
    by_rate = sorted(stages, key=lambda s: s.rate)
    meeting = [s for s in by_rate if s.meets_slos]
    best = meeting[-1] if meeting else None
    return {
        "stages": [s.to_json() for s in stages],  # in the order they ran
        "knee_rps": _knee(by_rate, settings),
        "highest_slo_rps": None if best is None else best.rate,
        "at_highest_slo": None if best is None else best.capacity_json(),
        "quota": quota,
        "quota_limited_rps": _quota_rps(quota, best or (by_rate[0] if by_rate else None)),
        "stopped_because": None,
    }


def _knee(by_rate: list[StageResult], settings: SweepSpec) -> float | None:
    """The highest rate before the first stage where the endpoint stopped keeping up:
    saturated, or its median TTFT (from the intended start) above `ttft_growth` times the
    lowest-rate stage's. None while no stage has bent."""
    if not by_rate or by_rate[0].ttft_p50_ms is None:
        return None
    baseline = by_rate[0].ttft_p50_ms
    previous = None
    for stage in by_rate:
        bent = stage.saturated or (
            stage.ttft_p50_ms is not None and stage.ttft_p50_ms > settings.ttft_growth * baseline
        )
        if bent:
            return previous
        previous = stage.rate
    return None


def _quota_rps(quota: dict[str, Any], stage: StageResult | None) -> float | None:
    """The highest request rate the quota allows, with the stage's tokens per request."""
    limits = []
    if quota.get("rpm"):
        limits.append(quota["rpm"] / 60)
    tokens = None if stage is None else stage.quota_tokens_per_request(quota)
    if quota.get("tpm") and tokens:
        limits.append(quota["tpm"] / 60 / tokens)
    return round(min(limits), 3) if limits else None


def _document(summary: dict[str, Any]) -> dict[str, Any]:
    return {"schema_version": SCHEMA_VERSION, "sweep": summary}


def print_sweep(summary: dict[str, Any], console: Console) -> None:
    """The summary table: one row per model."""
    table = Table(title=f"sweep {summary['scenario']} — {summary['status']}", title_justify="left")
    for column in (
        "model",
        "stages",
        "knee req/s",
        "max req/s in SLO",
        "goodput req/s",
        "RPM",
        "TPM",
        "quota RPM/TPM",
        "$ / hour",
    ):
        table.add_column(column, justify="left" if column == "model" else "right", no_wrap=True)
    for model, data in summary["models"].items():
        best = data["at_highest_slo"] or {}
        quota = data["quota"]
        table.add_row(
            model,
            str(len(data["stages"])),
            _num(data["knee_rps"]),
            _num(data["highest_slo_rps"]),
            _num(best.get("goodput_rps")),
            _num(best.get("requests_per_minute")),
            _num(best.get("tokens_per_minute")),
            f"{_num(quota.get('rpm'))}/{_num(quota.get('tpm'))}",
            "-" if best.get("cost_per_hour_usd") is None else f"{best['cost_per_hour_usd']:,.2f}",
        )
    console.print(table)
    for model, data in summary["models"].items():
        if data["stopped_because"]:
            console.print(f"{model}: {data['stopped_because']}")


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:,.4g}"


def _safe(model: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", model)


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
