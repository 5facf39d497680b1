"""What the caller of a run decides beyond the scenario: where to write, what to print, which
emulator or backend to share, and a worker's share of the load.

Callers fill one RunOptions; the parts of a run read only their slice of it (`display` for the
terminal, `cloudwatch_outputs` for the sinks), so each part's dependencies show in its signature.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from loadgen.engine.backend import Backend
from loadgen.plan.arrival_split import WorkerShare
from loadgen.run.display import Display
from loadgen.run.progress import ProgressSnapshot


@dataclass(frozen=True)
class CloudWatchOutputs:
    """How a run's metrics leave it besides samples.jsonl (the scenario says where to)."""

    emf: str | None = None  # write EMF lines to this file ("-": stdout)
    dry_run: bool = False  # print the CloudWatch calls instead of making them
    require: bool = False  # exit 5 when something was not published


@dataclass
class RunOptions:
    out_dir: Path | None = None
    emulate: bool = False
    # An emulator already started for several runs (a sweep's stages): use it, as --emulate
    # would use its own, instead of starting one per run.
    shared_emulator_url: str | None = None
    # A started backend several runs share (a sweep's stages): creating an SDK client costs
    # a second or two. The run neither starts nor closes it.
    shared_backend: Backend | None = None
    quiet: bool = False
    grace_s: float = 10.0  # after an interrupt, how long requests in flight may finish
    preflight: bool = True  # one cheap call per model before load
    # Read the account's Bedrock quotas from Service Quotas for the report (docs/quotas.md).
    quota_from_account: bool = False
    quality: bool = True  # score responses after the run, where rows have references
    keep_text: bool = False  # --keep-text: write each response's text into samples.jsonl
    # report.json's run.run_id, on every samples.jsonl line; None: the run makes one (a
    # --workers run makes one for all its workers, loadgen/scale/workers.py).
    run_id: str | None = None
    console: Console = field(default_factory=Console)
    html: bool = True  # write report.html beside report.json (--no-html: off)
    progress: bool | None = None  # live progress; None: on a terminal unless quiet
    # Set by loadgen/scale/workers.py in a worker process: its share of the schedule and a call that
    # blocks until the common start instant (the parent's emulator: shared_emulator_url).
    worker: WorkerShare | None = None
    start_at: Callable[[], int] | None = None
    # In a worker: where its live progress snapshots go (None: the parent draws no view).
    progress_to: Callable[[ProgressSnapshot], object] | None = None

    emf: str | None = None  # write EMF lines to this file ("-": stdout)
    cloudwatch_dry_run: bool = False  # print the CloudWatch calls instead of making them
    require_cloudwatch: bool = False  # exit 5 when something was not published

    @property
    def display(self) -> Display:
        return Display(self.console, self.quiet, self.progress)

    @property
    def cloudwatch_outputs(self) -> CloudWatchOutputs:
        return CloudWatchOutputs(self.emf, self.cloudwatch_dry_run, self.require_cloudwatch)

    @property
    def emulated(self) -> bool:
        """The run sends to the built-in emulator: its own (--emulate) or a shared one."""
        return self.emulate or self.shared_emulator_url is not None
