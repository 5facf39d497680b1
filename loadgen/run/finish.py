"""The end of a run: report.json from what was measured (quality, thresholds, verdict) and
the exit code it earns."""

from __future__ import annotations

import asyncio
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from loadgen import __version__
from loadgen.config.apis import is_openai
from loadgen.config.load_models import describe as describe_load
from loadgen.config.load_models import target_rps as load_target_rps
from loadgen.config.scenario import Scenario, TargetSpec
from loadgen.config.thresholds import evaluate, report_section
from loadgen.core.errors import OutputError
from loadgen.core.redact import redact_text, redact_url
from loadgen.cost.price_age import stale_price_notes, today_utc
from loadgen.cost.price_check import describe_price
from loadgen.cost.pricing import ResolvedPrice
from loadgen.engine.runner import PhaseOutcome
from loadgen.engine.stopping import ABORTED, FAILED, INTERRUPTED, RunStop
from loadgen.plan.prompts import PromptSource
from loadgen.quality.scoring import report_sections
from loadgen.report.build import RunInfo, build_report, write_json_atomically
from loadgen.report.schema import QualitySection, Report, TargetInfo, ThresholdsSection
from loadgen.report.synthetic_tokens import dataset_section
from loadgen.report.trust import assess_trust, generator_kept_up
from loadgen.report.verdict import build_verdict
from loadgen.run.measure import Measured, utc_now
from loadgen.run.preflight import lifecycle_warnings
from loadgen.run.provenance import run_provenance

EXIT_OK = 0
EXIT_ABORTED = 3
EXIT_INTERRUPTED = 130
EXIT_THRESHOLDS = 99  # as k6: the run finished, but a threshold of the scenario failed
EXIT_CLOUDWATCH = 5  # --require-cloudwatch, and not everything reached CloudWatch
EXIT_OUTPUT = 6  # an output could not be written (disk full, folder gone, closed pipe)
EXIT_WORKER_DIED = 7  # a worker process or Ray actor died; what it measured is merged
EXIT_NOT_TRUSTWORTHY = 8  # fail_on_limited, and the generator was limited or dropped requests


@dataclass
class RunResult:
    report: Report
    out_dir: Path
    exit_code: int


async def finish(
    scenario: Scenario,
    measured: Measured,
    prompts: PromptSource,
    seed: int,
    target: TargetSpec,
    region: tuple[str, str],  # the region requests went to, and where it was found
    emulated: bool,
    prices: dict[str, ResolvedPrice | None],
    out_dir: Path,
    require_cloudwatch: bool,
) -> RunResult:
    """Write report.json; raise the run's internal error, if it had one, once it is written.

    A stop request while scoring ends the scoring (the report then has no quality section)
    and marks the run as stopped there; the report is written all the same."""
    outcomes, budget = measured.outcomes, measured.budget
    status = measured.stop.status or "completed"
    scheduled_rps, achieved_rps = _rates(outcomes)
    info = RunInfo(
        scenario=scenario.name,
        started_at=measured.started_at,
        ended_at=utc_now(),
        status=status,
        status_reason=measured.stop.reason,
        target=_describe_target(target, region, emulated),
        load=describe_load(scenario.load),
        seed=seed,
        loadgen_version=__version__,
        target_rps=load_target_rps(scenario.load),
        scheduled_rps=scheduled_rps if scenario.load.concurrency is None else None,
        achieved_rps=achieved_rps,
        scheduled=sum(o.scheduled for o in outcomes),
        cancelled=sum(o.cancelled for o in outcomes),
        cpu_percent=measured.cpu_percent,
        wall_s=measured.wall_s,
        cost={
            "budget_usd": scenario.cost.max_usd,
            "spent_usd": None if budget is None else round(budget.spent_usd, 9),
            "project_rps": scenario.cost.project_rps,
            "hours_per_month": scenario.cost.hours_per_month,
            "prices": {model: describe_price(price) for model, price in prices.items()},
        },
        cloudwatch=measured.sinks.cloudwatch_section(),
        notes=[
            *(
                f"{model} has no price (allow_unpriced): its cost fields are null"
                for model, price in prices.items()
                if price is None
            ),
            *stale_price_notes(prices, scenario.cost.max_price_age_days, today_utc()),
            *lifecycle_warnings([m.id for m in scenario.models], today_utc(), emulated),
        ],
        compared_api=measured.recorder.compared_api,
        run_id=measured.run_id,
    )
    report = build_report(info, measured.recorder)
    report["run"]["provenance"] = run_provenance(scenario, emulated)
    texts = prompts.synthetic
    if texts is not None and measured.token_accuracy is not None:
        models = [m.id for m in scenario.models]
        counters = {model: texts.counter(model) for model in models}
        report["dataset"] = dataset_section(texts.spec, counters, measured.token_accuracy, models)
    # After the run, off the event loop: scoring must not delay what is being timed.
    quality: dict[str, QualitySection] = {}
    if measured.responses is not None:
        quality = await _score(scenario, prompts, measured, report)
    for model, section in report["models"].items():
        section["quality"] = quality.get(model)
    report["thresholds"] = thresholds_section(scenario, report)
    report["verdict"] = build_verdict(
        [spec.parsed() for spec in scenario.requirements], report["models"]
    )
    stop = measured.stop
    stop.phase = "writing"
    mark_stop(report, stop)
    write_report(out_dir, report)
    if measured.failure is not None:
        raise measured.failure
    exit_code = exit_code_of(report["run"]["status"], report)
    published = report["run"].get("cloudwatch")
    if require_cloudwatch and published and not published["complete"]:
        # Before 99: monitoring that was required and is missing is a setup failure, which
        # outranks the verdict (that is in the report all the same).
        exit_code = EXIT_CLOUDWATCH if exit_code in (EXIT_OK, EXIT_THRESHOLDS) else exit_code
    return RunResult(report=report, out_dir=out_dir, exit_code=exit_code)


async def _score(
    scenario: Scenario, prompts: PromptSource, measured: Measured, report: Report
) -> dict[str, QualitySection]:
    """Quality sections, scored in a thread; {} when a stop request ends the scoring (a run
    stopped during load is still scored: what was measured is worth its scores)."""
    stop = measured.stop
    stop.phase = "scoring"
    cancelled = threading.Event()
    scoring = asyncio.to_thread(
        report_sections, scenario, prompts.rows_by_id(), measured.responses or (), cancelled
    )
    try:
        quality = await stop.until_stopped(scoring, even_if_stopped=True)
    except Exception as exc:  # what was measured must still be reported
        reason = redact_text(f"{type(exc).__name__}: {exc}")
        report["run"]["notes"].append(f"quality scoring failed: {reason}")
        return {}
    finally:
        cancelled.set()  # a stopped run does not wait for the rest of the scoring
    if quality is None:
        report["run"]["notes"].append("quality scoring was stopped: no quality section")
        return {}
    return quality


def mark_stop(report: Report, stop: RunStop) -> None:
    """The run's status as the stop left it: a stop after the load (while scoring, writing)
    makes an interrupted run too, and says where it came."""
    run = report["run"]
    if stop.status is not None:
        run["status"], run["status_reason"] = stop.status, stop.reason
    run["stopped_in"] = stop.stopped_in
    report["trust"] = assess_trust(report)  # the stop may have changed it


def write_report(out_dir: Path, report: Report) -> None:
    """report.json, atomically; when the folder refuses it (disk full, removed, read-only),
    into the temp folder instead, and an OutputError says where (exit 6)."""
    path = out_dir / "report.json"
    try:
        write_json_atomically(path, report)
        return
    except OSError as exc:
        reason = exc.strerror or str(exc)
    try:
        fd, fallback = tempfile.mkstemp(prefix="loadgen-report-", suffix=".json")
        os.close(fd)
        write_json_atomically(Path(fallback), report)
    except OSError:
        raise OutputError(
            f"{path} could not be written ({reason}), nor a copy in the temp folder: the "
            "run's figures are lost; free some space or give another --out"
        ) from None
    raise OutputError(f"{path} could not be written ({reason}); the report is in {fallback}")


def exit_code_of(status: str, report: Report) -> int:
    """3 aborted, 6 failed (an output), 130 interrupted; a completed run 99 when a threshold
    failed, else 0."""
    exit_code = {
        INTERRUPTED: EXIT_INTERRUPTED,
        ABORTED: EXIT_ABORTED,
        FAILED: EXIT_OUTPUT,
    }.get(status, EXIT_OK)
    if exit_code == EXIT_OK and report["thresholds"] and not report["thresholds"]["passed"]:
        exit_code = EXIT_THRESHOLDS
    return exit_code


def trusted_exit_code(exit_code: int, report: Report, fail_on_limited: bool) -> int:
    """With fail_on_limited, 8 instead of 0 or 99 when the generator was limited or dropped
    requests: thresholds judged on a load that was never offered mean nothing. Stops (3, 130),
    failed outputs (6), dead workers (7) and missing CloudWatch data (5) keep their codes."""
    trust = report.get("trust")
    if not fail_on_limited or trust is None or exit_code not in (EXIT_OK, EXIT_THRESHOLDS):
        return exit_code
    return exit_code if generator_kept_up(trust) else EXIT_NOT_TRUSTWORTHY


def thresholds_section(scenario: Scenario, report: Report) -> ThresholdsSection | None:
    """The scenario's thresholds against the report; None when the scenario sets none."""
    if not scenario.thresholds:
        return None
    checks = [spec.parsed() for spec in scenario.thresholds]
    return report_section(evaluate(checks, report["models"]))


def _rates(outcomes: list[PhaseOutcome]) -> tuple[float | None, float | None]:
    """Scheduled and achieved sends per second, over the phases' own spans."""
    gaps = sum(max(o.dispatched + o.dropped - 1, 0) for o in outcomes)
    scheduled_span = sum(o.last_offset_ns - o.first_offset_ns for o in outcomes if o.scheduled)
    dispatched_gaps = sum(max(o.dispatched - 1, 0) for o in outcomes)
    dispatch_span = sum(o.last_dispatch_ns - o.first_dispatch_ns for o in outcomes if o.dispatched)
    scheduled = gaps / (scheduled_span / 1e9) if scheduled_span > 0 else None
    achieved = dispatched_gaps / (dispatch_span / 1e9) if dispatch_span > 0 else None
    return scheduled, achieved


def _describe_target(target: TargetSpec, region: tuple[str, str], emulated: bool) -> TargetInfo:
    name, source = region
    openai = is_openai(target.api)
    return {
        "provider": "openai" if openai else target.provider,
        "api": target.api,
        "region": target.region if openai else name,
        # scenario (or --region), AWS_REGION, AWS_DEFAULT_REGION, "profile NAME", or emulator
        "region_source": None if openai else source,
        "endpoint_url": redact_url(target.endpoint_url),
        "emulated": emulated,
    }
