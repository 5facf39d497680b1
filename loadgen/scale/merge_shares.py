"""One report from the workers' reports: merged exactly (histograms bucket by bucket, with
`loadgen merge`'s code), with `run.workers` saying what each worker did."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from loadgen.config.scenario import Scenario
from loadgen.report.merge import merge_runs
from loadgen.report.saved_run import load_run
from loadgen.report.schema import Report, WorkerInfo

# A worker past this share of a core may already be late on its schedule (docs/design.md).
CPU_WARNING_PERCENT = 70.0


@dataclass
class WorkerOutcome:
    index: int
    folder: Path
    exit_code: int | None
    error: str | None


def merge_shares(
    scenario: Scenario,
    out_dir: Path,
    workers: int,
    outcomes: list[WorkerOutcome],
    wall_s: float,
    sent_by: str = "worker processes",
) -> Report:
    """report.json of the whole run, from each worker's folder; samples.jsonl concatenated."""
    written = [o for o in outcomes if (o.folder / "report.json").is_file()]
    runs = [load_run(o.folder) for o in written]
    if len(runs) == 1:  # merge_runs wants two; one worker's report is the whole run
        report = runs[0].report.copy()
        if runs[0].samples_path is not None:
            shutil.copyfile(runs[0].samples_path, out_dir / "samples.jsonl")
    else:
        report = merge_runs(runs, out_dir)
    run_section = report["run"]
    # Each worker's report counts the whole scenario's rate as its target: the run's is one.
    run_section["load"] = {**run_section["load"], "rate": scenario.load.rate}
    run_section["generator"]["target_rps"] = scenario.load.rate
    per_worker: list[WorkerInfo] = []
    for outcome, saved in zip(written, runs, strict=True):
        generator = saved.report["run"]["generator"]
        per_worker.append(
            {
                "worker": outcome.index,
                "status": saved.report["run"]["status"],
                "cpu_percent": generator["cpu_percent"],
                "wall_s": saved.report["run"]["wall_s"],  # what cpu_percent is a share of
                "lag_ms": generator["lag_ms"],
                "scheduled": generator["scheduled"],
                "dispatched": generator["dispatched"],
                "dropped": generator["dropped"],
                "achieved_rps": generator["achieved_rps"],
            }
        )
    run_section["workers"] = per_worker
    notes = [
        n for n in run_section["notes"] if not n.startswith(("merged from", "parts share a seed"))
    ]
    notes.insert(0, f"sent by {workers} {sent_by}, merged exactly (run.workers)")
    for outcome in outcomes:
        if outcome not in written:
            notes.append(
                f"worker {outcome.index} wrote no report (exit {outcome.exit_code}"
                f"{': ' + outcome.error if outcome.error else ''}): its share is missing"
            )
    for worker in per_worker:
        if worker["cpu_percent"] > CPU_WARNING_PERCENT:
            notes.append(
                f"worker {worker['worker']} used {worker['cpu_percent']:.0f} % of a core "
                f"(> {CPU_WARNING_PERCENT:.0f} %): it may have been late; add --workers"
            )
    run_section["notes"] = notes
    run_section["wall_s"] = round(wall_s, 3)
    return report
