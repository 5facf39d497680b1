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

A worker that dies (killed by a signal, a crash) is told from one that stopped: the parent
stops the others as above, rebuilds the dead worker's report from the samples.jsonl lines it
wrote (loadgen/scale/dead_share.py), merges it, and the run is `aborted`, exit 7, with a
status reason naming the worker and how it died. A worker whose parent dies gets a SIGINT
(Linux: PR_SET_PDEATHSIG), so it stops as on Ctrl-C and writes its report.

Live progress: where the parent's view is wanted (a terminal, not --quiet), each worker sends
a small snapshot of its counters over its pipe twice a second, and the parent's wait loop
draws their sum (loadgen/scale/progress.py).

The parts: how many workers (worker_count.py), what each one runs and with which part of
the in-flight cap and the pool (share.py), signals (signals.py), a dead worker's report
rebuilt from its samples (dead_share.py), the exact merge of their reports (merge_shares.py);
this module launches the processes and talks to them over pipes.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, suppress
from dataclasses import replace
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from loadgen.config.scenario import Scenario
from loadgen.core.errors import LoadgenError, PreflightError
from loadgen.core.run_id import new_run_id
from loadgen.report.build import write_json_atomically
from loadgen.report.saved_run import load_run
from loadgen.run import RunOptions, RunResult
from loadgen.run.emulated import start_emulator
from loadgen.run.finish import EXIT_WORKER_DIED, exit_code_of, thresholds_section
from loadgen.run.measure import utc_now
from loadgen.run.outputs import finish_outputs
from loadgen.run.progress import ProgressSnapshot
from loadgen.run.setup import prepare_out_dir
from loadgen.scale.dead_share import WorkersDied, how_it_died, rebuild_report, target_of
from loadgen.scale.merge_shares import WorkerOutcome, merge_shares
from loadgen.scale.progress import WorkersProgress
from loadgen.scale.share import NotStarted, ShareSpec, run_share, share_scenario, share_spec
from loadgen.scale.signals import die_with_parent, interrupt_all, stop_signals_handled_by
from loadgen.scale.worker_count import check_workers

START_LEAD_NS = 200_000_000  # from "all ready" to the first request
READY_TIMEOUT_S = 120.0

# Sends the shares and collects them: (scenario, options, workers, out_dir, emulator_url) ->
# one WorkerOutcome per share, with its report.json and samples.jsonl in its folder.
Launcher = Callable[[Scenario, RunOptions, int, Path, "str | None"], "list[WorkerOutcome]"]


def run_with_workers(
    scenario: Scenario,
    options: RunOptions,
    workers: int,
    launch: Launcher | None = None,
    sent_by: str = "worker processes",
    cores: int | None = None,
    noun: str = "worker",
) -> RunResult:
    """Like loadgen.run.run, with the load spread over `workers` processes. Blocks.

    `launch` runs the shares (default: local processes; loadgen/scale/ray_workers.py: Ray actors);
    the split, the emulator, the exact merge and the report are the same for both. `noun`:
    what the report calls one share's sender ("worker 1 died ...").
    """
    check_workers(scenario, workers, cores)
    if scenario.seed is None:  # one seed for all: they split one schedule
        scenario = scenario.model_copy(update={"seed": int.from_bytes(os.urandom(4)) >> 1})
    if scenario.cost.max_usd:
        share = scenario.cost.model_copy(update={"max_usd": scenario.cost.max_usd / workers})
        worker_scenario = scenario.model_copy(update={"cost": share})
    else:
        worker_scenario = scenario
    out_dir = prepare_out_dir(options.out_dir, scenario.name)
    if options.run_id is None:  # one id for the whole run: the workers' lines all carry it
        options = replace(options, run_id=new_run_id())
    with ExitStack() as stack:
        emulator = None
        emulator_url = None
        if options.emulate:
            emulator = stack.enter_context(start_emulator(scenario))
            emulator_url = emulator.url
        started = time.perf_counter()
        started_at = utc_now()
        outcomes = (launch or _run_workers)(
            worker_scenario, options, workers, out_dir, emulator_url
        )
        wall_s = time.perf_counter() - started
        _rebuild_dead_shares(
            worker_scenario, options, workers, outcomes, started_at, noun, emulator_url
        )
        report = merge_shares(scenario, out_dir, workers, outcomes, wall_s, sent_by, noun)
        if emulator is not None:
            report["run"]["emulator"] = emulator.stats()
    report["thresholds"] = thresholds_section(scenario, report)
    write_json_atomically(out_dir / "report.json", report)
    finish_outputs(report, out_dir, options.html, options.display)
    exit_code = exit_code_of(report["run"]["status"], report)
    if any(o.died is not None for o in outcomes):
        exit_code = EXIT_WORKER_DIED  # outranks the rest: the run is not what was asked for
    return RunResult(report=report, out_dir=out_dir, exit_code=exit_code)


def _rebuild_dead_shares(
    scenario: Scenario,
    options: RunOptions,
    workers: int,
    outcomes: list[WorkerOutcome],
    started_at: str,
    noun: str,
    emulator_url: str | None,
) -> None:
    """Each dead share's report.json, from its samples.jsonl; then at least one report, or the
    error saying why there is none (a death: exit 7; otherwise a failed setup: exit 2)."""
    written = [o for o in outcomes if (o.folder / "report.json").is_file()]
    template = load_run(written[0].folder).report if written else None
    target = target_of(scenario, emulated=options.emulated)
    for outcome in outcomes:
        if outcome.died is None or outcome in written:
            continue
        at_s = max(outcome.died_at_s or 0.0, 0.0)
        spec = share_spec(options, outcome.folder, outcome.index, workers, emulator_url, scenario)
        outcome.merged_samples = rebuild_report(
            share_scenario(scenario, spec),
            outcome.folder,
            f"{noun} {outcome.index} died ({outcome.died})",
            started_at,
            utc_now(),
            at_s,
            template,
            target,
        )
    if any((o.folder / "report.json").is_file() for o in outcomes):
        return
    reasons = "; ".join(f"{noun} {o.index}: {_why_no_report(o)}" for o in outcomes)
    if any(o.died is not None for o in outcomes):
        raise WorkersDied(f"no {noun} left anything to report ({reasons})")
    raise PreflightError(f"no {noun} wrote a report ({reasons})")


def _why_no_report(outcome: WorkerOutcome) -> str:
    if outcome.died is not None:
        return f"died ({outcome.died})"
    return outcome.error or f"exit {outcome.exit_code}"


def _run_workers(
    scenario: Scenario, options: RunOptions, workers: int, out_dir: Path, emulator_url: str | None
) -> list[WorkerOutcome]:
    context = multiprocessing.get_context("spawn")
    folders = [out_dir / "workers" / str(k) for k in range(workers)]
    pipes = [context.Pipe() for _ in range(workers)]
    processes = [
        context.Process(
            target=_worker_main,
            args=(
                scenario,
                share_spec(options, folders[k], k, workers, emulator_url, scenario),
                pipes[k][1],
                os.getpid(),
            ),
            name=f"loadgen-worker-{k}",
        )
        for k in range(workers)
    ]
    errors: dict[int, str] = {}
    crashes: dict[int, str] = {}
    deaths: dict[int, tuple[str, float | None]] = {}  # how, and when (s from the start)
    ends = [p[0] for p in pipes]
    progress = WorkersProgress.start_if_wanted(options.display, scenario, workers)
    try:
        with stop_signals_handled_by(lambda signum, frame: interrupt_all(processes)):
            for process in processes:
                process.start()
            start_ns = _start_together(ends, processes, errors, crashes)
            stopped = False
            while alive := [p.sentinel for p in processes if p.is_alive()]:
                # Wakes for a worker's end or a message (a snapshot: twice a second each).
                wait([*alive, *ends], timeout=0.2)
                _read_messages(ends, errors, crashes, progress)
                _note_deaths(processes, errors, crashes, deaths, start_ns)
                if not stopped and any(
                    p.exitcode not in (None, 0, 5, 99, 130) for p in processes
                ):  # one worker stopped early (a guard, a failure, a death): stop the rest as
                    stopped = True  # Ctrl-C would
                    interrupt_all(processes)
        _read_messages(ends, errors, crashes, progress)
        _note_deaths(processes, errors, crashes, deaths, start_ns)
    finally:
        if progress is not None:
            progress.stop()
        for process in processes:  # every worker reaped: none is left behind
            process.join(timeout=5)
    return [
        WorkerOutcome(
            k,
            folders[k],
            processes[k].exitcode,
            errors.get(k),
            died=deaths[k][0] if k in deaths else None,
            died_at_s=deaths[k][1] if k in deaths else None,
        )
        for k in range(workers)
    ]


def _note_deaths(
    processes: Sequence[BaseProcess],
    errors: dict[int, str],
    crashes: dict[int, str],
    deaths: dict[int, tuple[str, float | None]],
    start_ns: int | None,
) -> None:
    """Workers that died since the last look: how, and when (seconds from the start; None:
    before it). A worker that said why it stops (an error it sent) did not die."""
    now_ns = time.perf_counter_ns()
    for k, process in enumerate(processes):
        if k in deaths or k in errors:
            continue
        how = how_it_died(process.exitcode, crashes.get(k))
        if how is not None:
            deaths[k] = (how, None if start_ns is None else max(0.0, (now_ns - start_ns) / 1e9))


def _read_messages(
    ends: list[Connection],
    errors: dict[int, str],
    crashes: dict[int, str],
    progress: WorkersProgress | None,
) -> None:
    """Everything the workers sent since the last call: progress snapshots and errors."""
    for k, end in enumerate(ends):
        with suppress(EOFError, OSError):
            while end.poll():
                _take(k, end.recv(), errors, crashes, progress)
    if progress is not None:
        progress.tick()


def _take(
    k: int,
    message: object,
    errors: dict[int, str],
    crashes: dict[int, str],
    progress: WorkersProgress | None,
) -> None:
    if isinstance(message, ProgressSnapshot):  # first: a NamedTuple is a tuple
        if progress is not None:
            progress.update(k, message)
    elif isinstance(message, tuple) and message[0] == "error":
        errors[k] = message[1]
    elif isinstance(message, tuple) and message[0] == "crash":
        crashes[k] = message[1]


def _start_together(
    ends: list[Connection],
    processes: Sequence[BaseProcess],
    errors: dict[int, str],
    crashes: dict[int, str],
) -> int | None:
    """Wait for every worker to be ready (or gone), then send each the common start instant
    and return it; None when the start is called off (a worker failed or died in setup)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    waiting = set(range(len(ends)))
    gone = False
    while waiting and time.monotonic() < deadline:
        for k in list(waiting):
            with suppress(EOFError, OSError):
                if ends[k].poll(0.05):
                    message = ends[k].recv()
                    if message == "ready":
                        waiting.discard(k)
                    else:
                        _take(k, message, errors, crashes, None)
                        if k in errors:
                            waiting.discard(k)
                    continue
            if not processes[k].is_alive():
                waiting.discard(k)
                gone = True  # ended before it was ready: nothing it says will start it
    if errors or gone:
        for end in ends:
            _send(end, None)  # None: do not start; the run ends
        return None
    start_ns = time.perf_counter_ns() + START_LEAD_NS
    for end in ends:
        _send(end, start_ns)
    return start_ns


def _send(end: Connection, message: Any) -> None:
    with suppress(OSError):  # the worker is gone; its exit code says why
        end.send(message)


def _worker_main(scenario: Scenario, spec: ShareSpec, conn: Connection, parent_pid: int) -> None:
    """One worker process: the ordinary run, on its share, from the common start instant."""
    os.setpgrp()  # the terminal's Ctrl-C goes to the parent, which passes it on once
    die_with_parent(parent_pid)  # a parent killed outright: stop as on Ctrl-C, report written

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
    except KeyboardInterrupt:  # a stop before the run took the signal over: a stop all the same
        raise SystemExit(130) from None
    except LoadgenError as exc:
        conn.send(("error", str(exc)))
        raise SystemExit(exc.exit_code) from None
    except Exception as exc:  # a bug: the parent reports the worker as died, saying of what
        with suppress(OSError):
            conn.send(("crash", f"{type(exc).__name__}: {exc}"[:300]))
        raise  # the traceback on stderr, exit 1
    raise SystemExit(result.exit_code)
