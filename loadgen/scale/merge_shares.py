"""One report from the workers' reports: merged exactly (histograms bucket by bucket, with
`loadgen merge`'s code), with `run.workers` saying what each worker did."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from loadgen.config.scenario import Scenario
from loadgen.report.merge import merge_runs
from loadgen.report.saved_run import load_run
from loadgen.report.schema import Report, WorkerInfo, WorkerNode

# A worker past this share of a core may already be late on its schedule (docs/design.md).
CPU_WARNING_PERCENT = 70.0


@dataclass
class WorkerOutcome:
    index: int
    folder: Path
    exit_code: int | None
    error: str | None
    died: str | None = None  # how it died ("killed by SIGKILL"); None: it ended on purpose
    died_at_s: float | None = None  # when the parent saw it, from the start; None: before
    merged_samples: int | None = None  # died: the samples.jsonl lines its report was rebuilt
    # from (None: it left no samples.jsonl, or its lines could not come back)
    node: WorkerNode | None = None  # --ray: the node the actor ran on (None: unknown)


def merge_shares(
    scenario: Scenario,
    out_dir: Path,
    workers: int,
    outcomes: list[WorkerOutcome],
    wall_s: float,
    sent_by: str = "worker processes",
    noun: str = "worker",
) -> Report:
    """report.json of the whole run, from each worker's folder; samples.jsonl concatenated.

    A worker that died makes the run `aborted`, its status reason naming the worker, how and
    when it died, and what of its measurements is merged (loadgen/scale/dead_share.py)."""
    written = [o for o in outcomes if (o.folder / "report.json").is_file()]
    runs = [load_run(o.folder) for o in written]
    if len(runs) == 1:  # merge_runs wants two; one worker's report is the whole run
        report = runs[0].report.copy()
        if runs[0].samples_path is not None:
            shutil.copyfile(runs[0].samples_path, out_dir / "samples.jsonl")
    else:
        # Shares run together by construction; Ray nodes' clocks may still disagree by a second.
        report = merge_runs(runs, out_dir, allow_disjoint=True)
    run_section = report["run"]
    # Each worker's report counts the whole scenario's rate as its target: the run's is one.
    # Each worker's report has its own part of max_in_flight (loadgen/scale/share.py).
    run_section["load"] = {
        **run_section["load"],
        "rate": scenario.load.rate,
        "max_in_flight": scenario.load.max_in_flight,
    }
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
        if outcome.node is not None:
            per_worker[-1]["node"] = outcome.node
    run_section["workers"] = per_worker
    notes = [
        n for n in run_section["notes"] if not n.startswith(("merged from", "parts share a seed"))
    ]
    notes.insert(0, f"sent by {workers} {sent_by}, merged exactly (run.workers)")
    for outcome in outcomes:
        if outcome not in written:
            notes.append(
                f"{noun} {outcome.index} wrote no report (exit {outcome.exit_code}"
                f"{': ' + outcome.error if outcome.error else ''}): its share is missing"
            )
    for worker in per_worker:
        if worker["cpu_percent"] > CPU_WARNING_PERCENT:
            notes.append(
                f"worker {worker['worker']} used {worker['cpu_percent']:.0f} % of a core "
                f"(> {CPU_WARNING_PERCENT:.0f} %): it may have been late; add --workers"
            )
    dead = [o for o in outcomes if o.died is not None]
    if dead:
        run_section["status"] = "aborted"
        run_section["status_reason"] = "; ".join(_death(o, noun) for o in dead)
        dead_indices = {o.index for o in dead}
        for worker in per_worker:
            if worker["worker"] not in dead_indices and worker["status"] == "interrupted":
                notes.append(
                    f"{noun} {worker['worker']} was stopped when {noun} {dead[0].index} died"
                )
    run_section["notes"] = notes
    run_section["wall_s"] = round(wall_s, 3)
    return report


def _death(outcome: WorkerOutcome, noun: str) -> str:
    """worker 1 died (killed by SIGKILL) at 3.2 s; its 41 samples so far are merged
    (an actor: `... died (ActorDiedError) on node 3f2a9c1b (10.0.0.7) at 3.2 s; ...`)"""
    at = "before the start" if outcome.died_at_s is None else f"at {outcome.died_at_s:.1f} s"
    if outcome.node is not None:
        at = f"on node {outcome.node['id'][:8]} ({outcome.node['ip']}) {at}"
    if outcome.merged_samples is not None:
        kept = f"its {outcome.merged_samples} samples so far are merged"
    else:
        kept = "none of its samples could be merged"
    return f"{noun} {outcome.index} died ({outcome.died}) {at}; {kept}"
