"""`loadgen run --workers N`: one scenario sent by N processes, merged into one report.

Each worker is a fresh process (spawned, not forked: the SDK's threads and loops do not
survive a fork) that runs the ordinary `run()` with its own uvloop event loop and keeps its
share of the one arrival schedule (loadgen/plan/arrival_split.py). Workers set up (client,
preflight) at their own pace, say they are ready, and the parent then gives all of them one
start instant on the system-wide monotonic clock (perf_counter is CLOCK_MONOTONIC on Linux
and macOS), so their shares interleave as one process's schedule would.

Each worker writes its own report.json and samples.jsonl under `workers/<k>/`; the parent
merges them with `loadgen merge`'s code (histograms bucket by bucket: exact) and adds
`run.workers`: each worker's CPU and schedule lag.

Ctrl-C reaches the parent only (workers run in their own process group); the parent passes
each signal on, so the first one lets requests in flight finish within the grace period and
a second one stops at once, as in a single-process run. A worker that aborts (a guard
tripped) makes the parent stop the others.

Live progress: where the parent's view is wanted (a terminal, not --quiet), each worker sends
a small snapshot of its counters over its pipe twice a second, and the parent's wait loop
draws their sum (loadgen/scale/progress.py).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from rich.console import Console

from loadgen.config.scenario import Scenario
from loadgen.core.errors import ConfigError, PreflightError
from loadgen.plan.arrival_split import WorkerShare
from loadgen.run.progress import ProgressSnapshot, progress_wanted
from loadgen.scale.progress import WorkersProgress

# A worker past this share of a core may already be late on its schedule (DESIGN.md).
CPU_WARNING_PERCENT = 70.0
# From benchmarks/capacity_w2.py (docs/scaling.md): a streamed W2 answer (54 events) costs
# about 3.1 ms of client CPU on the lean paths (~57 us an event, request signing included),
# so one core saturates near 320 req/s; 200 req/s keeps a worker near 62 % of a core, under
# the 70 % where its schedule starts to slip.
RPS_PER_WORKER = 200.0
START_LEAD_NS = 200_000_000  # from "all ready" to the first request
READY_TIMEOUT_S = 120.0


def default_workers(rate: float, cpus: int | None = None) -> int:
    """As many workers as the rate needs at RPS_PER_WORKER each, up to the cores."""
    cores = cpus or os.cpu_count() or 1
    return max(1, min(cores, math.ceil(rate / RPS_PER_WORKER)))


def workers_for(scenario: Scenario, cpus: int | None = None) -> int:
    """`--workers` left out: default_workers, or 1 where the run cannot be split."""
    if _unsplittable(scenario):
        return 1
    return default_workers(scenario.load.rate, cpus)


def _unsplittable(scenario: Scenario) -> list[str]:
    problems = []
    if scenario.load.model_order == "sequential" and len(scenario.models) > 1:
        problems.append(
            "--workers with load.model_order: sequential is not supported; "
            "use model_order: shared or --workers 1"
        )
    if scenario.compare_streaming:
        problems.append("--workers with compare_streaming is not supported; use --workers 1")
    if scenario.load.concurrency is not None:
        problems.append(
            "--workers with a closed loop (load.concurrency) is not supported; use --workers 1"
        )
    return problems


def check_workers(scenario: Scenario, workers: int, cores: int | None = None) -> None:
    """Refuse a worker count or a scenario that cannot be split (cores: default this machine's)."""
    problems = []
    cores = cores or os.cpu_count() or 1
    if workers < 1:
        problems.append(f"--workers {workers}: give 1 or more")
    elif workers > 4 * cores:
        problems.append(f"--workers {workers}: there are {cores} cores; use at most them")
    if workers > 1:
        problems.extend(_unsplittable(scenario))
    if problems:
        raise ConfigError(problems, str(scenario.base_dir))


# Sends the shares and collects them: (scenario, options, workers, out_dir, emulator_url) ->
# one WorkerOutcome per share, with its report.json and samples.jsonl in its folder.
Launcher = Callable[[Scenario, Any, int, Path, "str | None"], "list[WorkerOutcome]"]


def run_with_workers(
    scenario: Scenario,
    options: Any,
    workers: int,
    launch: Launcher | None = None,
    sent_by: str = "worker processes",
    cores: int | None = None,
) -> Any:
    """Like loadgen.run.api.run, with the load spread over `workers` processes. Blocks.

    `launch` runs the shares (default: local processes; loadgen/scale/ray_workers.py: Ray actors);
    the split, the emulator, the exact merge and the report are the same for both.
    """
    from loadgen.run.emulated import start_emulator
    from loadgen.run.finish import RunResult, exit_code_of, thresholds_section
    from loadgen.run.setup import prepare_out_dir

    check_workers(scenario, workers, cores)
    if scenario.seed is None:  # one seed for all: they split one schedule
        scenario = scenario.model_copy(update={"seed": int.from_bytes(os.urandom(4)) >> 1})
    if scenario.cost.max_usd:
        share = scenario.cost.model_copy(update={"max_usd": scenario.cost.max_usd / workers})
        worker_scenario = scenario.model_copy(update={"cost": share})
    else:
        worker_scenario = scenario
    out_dir = prepare_out_dir(options.out_dir, scenario.name)
    with ExitStack() as stack:
        emulator = None
        emulator_url = None
        if options.emulate:
            emulator = stack.enter_context(start_emulator(scenario))
            emulator_url = emulator.url
        started = time.perf_counter()
        outcomes = (launch or _run_workers)(
            worker_scenario, options, workers, out_dir, emulator_url
        )
        wall_s = time.perf_counter() - started
        report = _merge(scenario, out_dir, workers, outcomes, wall_s, sent_by)
        if emulator is not None:
            report["run"]["emulator"] = emulator.stats()
    report["thresholds"] = thresholds_section(scenario, report)
    from loadgen.report.build import write_json_atomically

    write_json_atomically(out_dir / "report.json", report)
    _finish_outputs(report, out_dir, options)
    exit_code = exit_code_of(report["run"]["status"], report)
    return RunResult(report=report, out_dir=out_dir, exit_code=exit_code)


@dataclass
class WorkerOutcome:
    index: int
    folder: Path
    exit_code: int | None
    error: str | None


def _run_workers(
    scenario: Scenario, options: Any, workers: int, out_dir: Path, emulator_url: str | None
) -> list[WorkerOutcome]:
    context = multiprocessing.get_context("spawn")
    folders = [out_dir / "workers" / str(k) for k in range(workers)]
    pipes = [context.Pipe() for _ in range(workers)]
    processes = [
        context.Process(
            target=_worker_main,
            args=(scenario, share_spec(options, folders[k], k, workers, emulator_url), pipes[k][1]),
            name=f"loadgen-worker-{k}",
        )
        for k in range(workers)
    ]
    errors: dict[int, str] = {}
    ends = [p[0] for p in pipes]
    progress = WorkersProgress.start_if_wanted(options, scenario, workers)
    try:
        with _forward_signals(processes):
            for process in processes:
                process.start()
            _start_together(ends, processes, errors)
            stopped = False
            while alive := [p.sentinel for p in processes if p.is_alive()]:
                # Wakes for a worker's end or a message (a snapshot: twice a second each).
                wait([*alive, *ends], timeout=0.2)
                _read_messages(ends, errors, progress)
                if not stopped and any(
                    p.exitcode not in (None, 0, 99, 130) for p in processes
                ):  # one worker stopped early (a guard, a failure): stop the rest as Ctrl-C would
                    stopped = True
                    _signal_all(processes)
        _read_messages(ends, errors, progress)
    finally:
        if progress is not None:
            progress.stop()
    outcomes = [
        WorkerOutcome(k, folders[k], processes[k].exitcode, errors.get(k)) for k in range(workers)
    ]
    if not any((o.folder / "report.json").is_file() for o in outcomes):
        reasons = "; ".join(f"worker {o.index}: {o.error or o.exit_code}" for o in outcomes)
        raise PreflightError(f"no worker wrote a report ({reasons})")
    return outcomes


def _read_messages(
    ends: list[Connection], errors: dict[int, str], progress: WorkersProgress | None
) -> None:
    """Everything the workers sent since the last call: progress snapshots and errors."""
    for k, end in enumerate(ends):
        with suppress(EOFError, OSError):
            while end.poll():
                message = end.recv()
                if isinstance(message, ProgressSnapshot):  # first: a NamedTuple is a tuple
                    if progress is not None:
                        progress.update(k, message)
                elif isinstance(message, tuple) and message[0] == "error":
                    errors[k] = message[1]
    if progress is not None:
        progress.tick()


def _start_together(ends: list[Connection], processes: list[Any], errors: dict[int, str]) -> None:
    """Wait for every worker to be ready (or gone), then send each the common start instant."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    waiting = set(range(len(ends)))
    while waiting and time.monotonic() < deadline:
        for k in list(waiting):
            if ends[k].poll(0.05):
                message = ends[k].recv()
                if message == "ready":
                    waiting.discard(k)
                elif isinstance(message, tuple) and message[0] == "error":
                    errors[k] = message[1]
                    waiting.discard(k)
            elif not processes[k].is_alive():
                waiting.discard(k)
    if errors:
        for end in ends:
            _send(end, None)  # None: do not start; the run ends
        return
    start_ns = time.perf_counter_ns() + START_LEAD_NS
    for end in ends:
        _send(end, start_ns)


def _send(end: Connection, message: Any) -> None:
    with suppress(OSError):  # the worker is gone; its exit code says why
        end.send(message)


@contextmanager
def _forward_signals(processes: list[Any]) -> Iterator[None]:
    def forward(signum: int, frame: object) -> None:
        _signal_all(processes)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _signal_all(processes: list[Any]) -> None:
    for process in processes:
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGINT)


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
    options: Any, folder: Path, index: int, count: int, emulator_url: str | None
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
        progress=progress_wanted(options),
    )


class NotStarted(Exception):
    """The parent called the run off before the start (another worker failed to set up)."""


def run_share(
    scenario: Scenario,
    spec: ShareSpec,
    start_at: Callable[[], int],
    publish: Callable[[ProgressSnapshot], object] | None = None,
) -> Any:
    """What one worker does, in a local process or a Ray actor: the ordinary run on its share.

    start_at blocks until every worker is ready and returns the common start instant on this
    process's perf_counter clock (or raises NotStarted). publish sends a progress snapshot to
    the parent (used where spec.progress). Returns loadgen.run.api.RunResult.
    """
    from loadgen.run.api import RunOptions, run

    options = RunOptions(
        out_dir=spec.folder,
        quiet=True,
        grace_s=spec.grace_s,
        preflight=spec.preflight,
        console=Console(quiet=True),
        html=False,
        progress=False,
    )
    options = replace(
        options,
        worker=spec.share,
        progress_to=publish if spec.progress else None,
        shared_emulator_url=spec.emulator_url,
        start_at=start_at,
    )
    return run(scenario, options)


def _worker_main(scenario: Scenario, spec: ShareSpec, conn: Connection) -> None:
    """One worker process: the ordinary run, on its share, from the common start instant."""
    os.setpgrp()  # the terminal's Ctrl-C goes to the parent, which passes it on once
    from loadgen.core.errors import LoadgenError

    def start_at() -> int:
        conn.send("ready")
        start_ns = conn.recv()
        if start_ns is None:
            raise NotStarted
        return int(start_ns)

    try:
        result = run_share(scenario, spec, start_at, conn.send)
    except NotStarted:
        raise SystemExit(2) from None
    except LoadgenError as exc:
        conn.send(("error", str(exc)))
        raise SystemExit(exc.exit_code) from None
    raise SystemExit(result.exit_code)


def _merge(
    scenario: Scenario,
    out_dir: Path,
    workers: int,
    outcomes: list[WorkerOutcome],
    wall_s: float,
    sent_by: str = "worker processes",
) -> dict[str, Any]:
    from loadgen.report.merge import merge_runs
    from loadgen.report.saved_run import load_run

    written = [o for o in outcomes if (o.folder / "report.json").is_file()]
    runs = [load_run(o.folder) for o in written]
    if len(runs) == 1:  # merge_runs wants two; one worker's report is the whole run
        report: dict[str, Any] = dict(runs[0].report)
        import shutil

        if runs[0].samples_path is not None:
            shutil.copyfile(runs[0].samples_path, out_dir / "samples.jsonl")
    else:
        report = merge_runs(runs, out_dir)
    run_section = report["run"]
    # Each worker's report counts the whole scenario's rate as its target: the run's is one.
    run_section["load"] = {**run_section["load"], "rate": scenario.load.rate}
    run_section["generator"]["target_rps"] = scenario.load.rate
    per_worker = []
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


def _finish_outputs(report: dict[str, Any], out_dir: Path, options: Any) -> None:
    html_path = None
    if options.html:
        from loadgen.report.html.page import save_report_html

        html_path, html_error = save_report_html(report, out_dir)
        if html_error is not None:
            options.console.print(f"[red]report.html could not be written ({html_error})[/red]")
    if not options.quiet:
        from loadgen.report.console import print_summary

        print_summary(report, options.console)
        options.console.print(f"report: {out_dir / 'report.json'}")
        if html_path is not None:
            options.console.print(f"report: {html_path}")
