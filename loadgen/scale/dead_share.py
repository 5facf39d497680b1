"""A worker (or Ray actor) that died: told from one that stopped, and what it measured kept.

A worker ends on purpose with one of the run's documented exit codes (loadgen/run/finish.py,
loadgen/core/errors.py); anything else (killed by a signal, a crash's exit 1) is a death. A
dead worker wrote no report.json, but its samples.jsonl lines are there: written and flushed
one whole line at a time, so all of them are whole except perhaps the last, cut by the death.
`rebuild_report` folds the lines that parse into a Recorder and builds that worker's report
with the live run's own code (build_report), so the merge takes it like any other.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from loadgen import __version__
from loadgen.config.apis import is_openai
from loadgen.config.load_models import describe as describe_load
from loadgen.config.load_models import target_rps as load_target_rps
from loadgen.config.scenario import Scenario
from loadgen.core import fast_json
from loadgen.core.atomic_file import replaced_atomically
from loadgen.core.errors import ConfigError, LoadgenError, PreflightError, RunAborted
from loadgen.core.redact import redact_url
from loadgen.core.sample import Sample
from loadgen.record.recorder import Recorder
from loadgen.report.build import RunInfo, build_report, write_json_atomically
from loadgen.report.saved_run import REPORT_FILE, SAMPLES_FILE
from loadgen.report.schema import PriceInfo, Report, TargetInfo
from loadgen.report.verdict import build_verdict
from loadgen.run.finish import (
    EXIT_ABORTED,
    EXIT_CLOUDWATCH,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_THRESHOLDS,
    EXIT_WORKER_DIED,
    thresholds_section,
)

# What a worker exits with on purpose: the run's exit codes, and 2 for a configuration or
# preflight error (or a start called off). Anything else is a death.
EXPECTED_EXIT_CODES = frozenset(
    {
        EXIT_OK,
        ConfigError.exit_code,
        PreflightError.exit_code,
        EXIT_ABORTED,
        RunAborted.exit_code,
        EXIT_CLOUDWATCH,
        EXIT_OUTPUT,
        EXIT_THRESHOLDS,
        EXIT_INTERRUPTED,
    }
)


class WorkersDied(LoadgenError):
    """A worker died and no worker left anything to report (exit 7)."""

    exit_code = EXIT_WORKER_DIED


def how_it_died(exit_code: int | None, crash: str | None = None) -> str | None:
    """How a worker that ended with `exit_code` died ("killed by SIGKILL", "exit code 1"),
    or None: still running, or ended on purpose. `crash`: what it said as it crashed."""
    if exit_code is None or exit_code in EXPECTED_EXIT_CODES:
        return None
    if exit_code < 0:
        try:
            name = signal.Signals(-exit_code).name
        except ValueError:
            name = f"signal {-exit_code}"
        return f"killed by {name}"
    return f"{crash}, exit code {exit_code}" if crash else f"exit code {exit_code}"


@dataclass
class ReadBack:
    """What a dead worker's samples.jsonl held."""

    recorder: Recorder
    samples: int  # lines read back and folded in
    skipped: int  # lines that did not parse (a cut last line), dropped from the file
    first_intended_us: int | None = None
    last_intended_us: int | None = None
    last_end_us: int | None = None
    spent_usd: float = 0.0


def read_back(
    path: Path, models: list[str], exclude_from_latency: frozenset[str] = frozenset()
) -> ReadBack:
    """Fold the samples.jsonl a worker left into a Recorder; lines that do not parse (a last
    line cut by the death) are skipped and removed from the file, so that the merged
    samples.jsonl holds whole lines only."""
    recorder = Recorder(exclude_from_latency=exclude_from_latency)  # as the worker's own
    for model in models:
        recorder.ensure_model(model)
    back = ReadBack(recorder, samples=0, skipped=0)
    bad_lines: list[int] = []
    for sample in _samples_of(path, bad_lines):
        recorder.add(sample)
        back.samples += 1
        if back.first_intended_us is None or sample.intended_us < back.first_intended_us:
            back.first_intended_us = sample.intended_us
        if back.last_intended_us is None or sample.intended_us > back.last_intended_us:
            back.last_intended_us = sample.intended_us
        if sample.end_us is not None and (
            back.last_end_us is None or sample.end_us > back.last_end_us
        ):
            back.last_end_us = sample.end_us
        back.spent_usd += sample.cost_usd or 0.0
    back.skipped = len(bad_lines)
    if bad_lines:
        _drop_lines(path, set(bad_lines))
    return back


def _samples_of(path: Path, bad_lines: list[int]) -> Iterator[Sample]:
    """The Samples of the file's lines that parse; the numbers of the others (blank lines
    aside) go to bad_lines."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle):
            if not line.strip():
                continue
            try:
                sample = Sample.from_json_dict(fast_json.loads(line))
            except (ValueError, TypeError, KeyError, AttributeError):
                bad_lines.append(number)
                continue
            yield sample


def _drop_lines(path: Path, numbers: set[int]) -> None:
    with path.open("rb") as source, replaced_atomically(path) as out:
        for number, line in enumerate(source):
            if number not in numbers:
                out.write(line)


def rebuild_report(
    scenario: Scenario,
    folder: Path,
    reason: str,
    started_at: str,
    ended_at: str,
    wall_s: float,
    template: Report | None,
    target: TargetInfo,
) -> int | None:
    """Write `folder`/report.json of a worker that died, from its samples.jsonl.

    `scenario`: as the worker ran it (its share of the limits). `template`: another worker's
    report, for what the samples do not say (the target, the prices); None if no worker wrote
    one. Returns how many samples were merged, or None when there was no samples.jsonl.
    """
    samples_path = folder / SAMPLES_FILE
    if not samples_path.is_file():
        return None
    back = read_back(
        samples_path,
        [m.id for m in scenario.models],
        frozenset(scenario.outcomes.exclude_from_latency),
    )
    recorder = back.recorder
    prices: dict[str, PriceInfo | None] = {}
    notes = [
        f"rebuilt from the {back.samples} samples.jsonl lines it wrote before it died: requests "
        "still in flight then are missing; its CPU use is unknown (reported as 0)"
    ]
    if template is not None:
        prices = template["run"]["cost"].get("prices", {})
        target = template["run"]["target"]
    else:
        notes.append("no worker wrote a report: prices unknown, its cost sections are null")
    if back.skipped:
        notes.append(f"{back.skipped} line(s) of its samples.jsonl did not parse: left out")
    info = RunInfo(
        scenario=scenario.name,
        started_at=started_at,
        ended_at=ended_at,
        status="aborted",
        status_reason=reason,
        target=target,
        load=describe_load(scenario.load),
        seed=scenario.seed if scenario.seed is not None else 0,
        loadgen_version=__version__,
        target_rps=load_target_rps(scenario.load),
        scheduled_rps=_rate(
            recorder.dispatched + recorder.dropped, back.first_intended_us, back.last_intended_us
        ),
        achieved_rps=_rate(
            recorder.dispatched, recorder.first_dispatch_us, recorder.last_dispatch_us
        ),
        scheduled=recorder.dispatched + recorder.dropped,
        cancelled=0,
        cpu_percent=0.0,
        wall_s=wall_s,
        cost={
            "budget_usd": scenario.cost.max_usd,
            "spent_usd": round(back.spent_usd, 9),
            "project_rps": scenario.cost.project_rps,
            "hours_per_month": scenario.cost.hours_per_month,
            "prices": prices,
        },
        notes=notes,
        # The run's id, which the other workers' reports carry too.
        run_id=None if template is None else template["run"].get("run_id"),
    )
    report = build_report(info, recorder)
    for section in report["models"].values():
        section["quality"] = None  # scored after a run; this one never finished
    report["thresholds"] = thresholds_section(scenario, report)
    report["verdict"] = build_verdict(
        [spec.parsed() for spec in scenario.requirements], report["models"]
    )
    write_json_atomically(folder / REPORT_FILE, report)
    return back.samples


def _rate(count: int, first_us: int | None, last_us: int | None) -> float | None:
    """count events spread from first_us to last_us, per second (gaps over the span)."""
    if first_us is None or last_us is None or last_us <= first_us or count < 2:
        return None
    return (count - 1) / ((last_us - first_us) / 1e6)


def target_of(scenario: Scenario, emulated: bool) -> TargetInfo:
    """The report's target section, as far as the parent knows it (when no worker wrote one)."""
    target = scenario.target
    return {
        "provider": "openai" if is_openai(target.api) else target.provider,
        "api": target.api,
        "region": target.region,
        "endpoint_url": redact_url(target.endpoint_url),
        "emulated": emulated,
    }
