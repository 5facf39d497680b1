"""What one worker does, in a local process or a Ray actor: the ordinary run on its share of
the schedule, started at the instant the parent gives every worker.

The scenario's limits are the whole run's, however many workers send it: worker k of N gets
its part of `load.max_in_flight` (and of `target.max_connections`, when set), so that N
workers hold no more requests in flight, and open no more connections, than one process
would (docs/scaling.md, "Worker processes").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from loadgen.config.scenario import Scenario
from loadgen.plan.arrival_split import WorkerShare
from loadgen.run import RunOptions, RunResult, run
from loadgen.run.progress import ProgressSnapshot


@dataclass(frozen=True)
class ShareSpec:
    """What one worker needs besides the scenario: where to write, which share, which emulator."""

    folder: Path
    share: WorkerShare
    emulator_url: str | None
    grace_s: float
    preflight: bool
    progress: bool = False  # the parent draws live progress: send it snapshots
    # This worker's part of load.max_in_flight and target.max_connections (part_of); None:
    # the scenario's own (target.max_connections unset: the pool follows max_in_flight).
    max_in_flight: int | None = None
    max_connections: int | None = None
    run_id: str | None = None  # the whole run's: every worker's lines and report carry it
    keep_text: bool = False  # --keep-text


def part_of(total: int, index: int, count: int) -> int:
    """Worker `index`'s part of `total` split over `count` workers: the parts add up to it
    (the first `total % count` workers take one more), and none is below 1."""
    return max(1, total // count + (1 if index < total % count else 0))


def share_spec(
    options: RunOptions,
    folder: Path,
    index: int,
    count: int,
    emulator_url: str | None,
    scenario: Scenario,
) -> ShareSpec:
    connections = scenario.target.max_connections
    return ShareSpec(
        folder=folder,
        share=WorkerShare(index, count),
        emulator_url=emulator_url,
        grace_s=options.grace_s,
        # Every worker makes the preflight calls: besides checking the models, the first call
        # warms the client (service model, endpoint rules), which would otherwise cost the
        # first scheduled request a second of CPU.
        preflight=options.preflight,
        # The parent shows progress (redrawn, or as lines in CI): send it snapshots.
        progress=options.display.progress_wanted() or options.display.progress_lines_wanted(),
        max_in_flight=part_of(scenario.load.max_in_flight, index, count),
        max_connections=None if connections is None else part_of(connections, index, count),
        run_id=options.run_id,
        keep_text=options.keep_text,
    )


def share_scenario(scenario: Scenario, spec: ShareSpec) -> Scenario:
    """The scenario as this worker runs it: with its part of the in-flight cap and the pool.

    The pool is sized `target.max_connections or load.max_in_flight` (loadgen/run/setup.py),
    so splitting the cap splits the pool too when max_connections is unset.
    """
    update: dict[str, object] = {}
    if spec.max_in_flight is not None:
        update["load"] = scenario.load.model_copy(update={"max_in_flight": spec.max_in_flight})
    if spec.max_connections is not None:
        update["target"] = scenario.target.model_copy(
            update={"max_connections": spec.max_connections}
        )
    return scenario.model_copy(update=update) if update else scenario


class NotStarted(Exception):
    """The parent called the run off before the start (another worker failed to set up)."""


def run_share(
    scenario: Scenario,
    spec: ShareSpec,
    start_at: Callable[[], int],
    publish: Callable[[ProgressSnapshot], object] | None = None,
) -> RunResult:
    """What one worker does, in a local process or a Ray actor: the ordinary run on its share.

    start_at blocks until every worker is ready and returns the common start instant on this
    process's perf_counter clock (or raises NotStarted). publish sends a progress snapshot to
    the parent (used where spec.progress).
    """
    options = RunOptions(
        out_dir=spec.folder,
        quiet=True,
        grace_s=spec.grace_s,
        preflight=spec.preflight,
        console=Console(quiet=True),
        html=False,
        progress=False,
        worker=spec.share,
        progress_to=publish if spec.progress else None,
        shared_emulator_url=spec.emulator_url,
        start_at=start_at,
        run_id=spec.run_id,
        keep_text=spec.keep_text,
    )
    return run(share_scenario(scenario, spec), options)
