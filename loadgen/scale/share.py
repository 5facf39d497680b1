"""What one worker does, in a local process or a Ray actor: the ordinary run on its share of
the schedule, started at the instant the parent gives every worker."""

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


def share_spec(
    options: RunOptions, folder: Path, index: int, count: int, emulator_url: str | None
) -> ShareSpec:
    return ShareSpec(
        folder=folder,
        share=WorkerShare(index, count),
        emulator_url=emulator_url,
        grace_s=options.grace_s,
        # Every worker makes the preflight calls: besides checking the models, the first call
        # warms the client (service model, endpoint rules), which would otherwise cost the
        # first scheduled request a second of CPU.
        preflight=options.preflight,
        progress=options.display.progress_wanted(),
    )


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
    )
    return run(scenario, options)
