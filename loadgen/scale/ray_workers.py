"""`loadgen run --ray [ADDRESS]`: the `--workers` run with Ray actors as the workers.

The split, the emulator, the exact merge and the report are loadgen/scale/workers.py's; only the
launcher differs. Each actor calls `workers.run_share`, as a local worker process does, on its
share of the schedule. Actors may be on other machines, so:

- the common start is a wall-clock (epoch) instant, chosen by a small barrier actor once every
  share is ready; each actor converts it to its own perf_counter clock on arrival. That assumes
  the machines' clocks agree to within the schedule's tolerance: NTP-level sync (a few ms) is
  enough; without it the shares interleave with that offset.
- an actor writes its run to a temporary folder and returns the contents of report.json and
  samples.jsonl; the driver writes them under `workers/<k>/` of its out folder and merges.
- live progress: where the driver draws it, each actor posts its snapshots to the barrier
  actor (fire and forget), and the driver collects them twice a second, as it would read a
  local worker's pipe (loadgen/scale/progress.py).
- an actor that dies (its process killed, its node lost: Ray raises RayActorError) is
  reported as such, as a local worker's death is: the run is `aborted`, exit 7, the status
  reason names the actor. Its files died with it (an actor sends them at its end), so none
  of its samples are merged. An actor whose run raises (a bug) sends back what it wrote, and
  its report is rebuilt from its samples.jsonl (loadgen/scale/dead_share.py).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

from loadgen.config.scenario import Scenario
from loadgen.core.errors import ConfigError, LoadgenError
from loadgen.run import RunOptions, RunResult
from loadgen.run.progress import REFRESH_S, ProgressSnapshot
from loadgen.scale.merge_shares import WorkerOutcome
from loadgen.scale.progress import WorkersProgress
from loadgen.scale.share import NotStarted, ShareSpec, run_share, share_spec
from loadgen.scale.signals import stop_signals_handled_by
from loadgen.scale.worker_count import workers_for
from loadgen.scale.workers import READY_TIMEOUT_S, START_LEAD_NS, run_with_workers

INSTALL_HINT = "pip install 'loadgen[ray]'"
STOP_POLL_S = 0.25  # how soon an actor hears of a Ctrl-C on the driver


def import_ray() -> Any:
    """The ray module, or a ConfigError (exit 2) saying how to install it."""
    try:
        import ray  # optional dependency (loadgen[ray]): only --ray needs it
    except ImportError:
        raise ConfigError(
            [f"--ray needs the optional Ray dependency, which is not installed: {INSTALL_HINT}"]
        ) from None
    return ray


def run_with_ray(
    scenario: Scenario, options: RunOptions, address: str | None, workers: int | None
) -> RunResult:
    """Like run_with_workers, with one Ray actor per worker. Blocks.

    address None: start a local Ray (or use the one this process already started);
    otherwise connect to that cluster. workers None: the cluster's CPUs, capped by the rate
    (one worker per 200 req/s, as --workers' default).
    """
    ray = import_ray()
    started_ray = False
    if not ray.is_initialized():
        if address:
            try:
                ray.init(address=address, logging_level="WARNING")
            except Exception as exc:  # Ray's errors here vary by version and address form
                reason = (str(exc).splitlines() or [type(exc).__name__])[0][:300]
                raise ConfigError(
                    [
                        f"--ray {address}: cannot connect to that Ray cluster ({reason}); check "
                        "the address (host:port, auto, or ray://host:port with ray[client]), "
                        "or give --ray alone for a local Ray"
                    ]
                ) from None
        else:
            # Room for every actor asked for (each takes one CPU), even past the cores.
            cpus = max(os.cpu_count() or 1, workers or 0)
            # Ray's processes inherit "ignore SIGINT": the terminal's Ctrl-C reaches the whole
            # foreground process group, and it must stop the run (the driver passes it on),
            # not kill the local Ray under it.
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
            try:
                ray.init(num_cpus=cpus, include_dashboard=False, logging_level="WARNING")
            finally:
                signal.signal(signal.SIGINT, previous)
        started_ray = True
    try:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        if workers is None:
            workers = workers_for(scenario, cpus)  # --workers' rule, the cluster's CPUs
        elif workers > cpus:  # an actor without a CPU would wait for one forever
            raise ConfigError(
                [f"--workers {workers}: the Ray cluster has {cpus} CPUs; use at most them"]
            )
        return run_with_workers(
            scenario,
            options,
            workers,
            launch=_run_actors,
            sent_by="Ray actors",
            cores=cpus,
            noun="actor",
        )
    finally:
        if started_ray:
            ray.shutdown()


def local_instant(epoch_ns: int, perf_now_ns: int, epoch_now_ns: int) -> int:
    """A wall-clock instant on this process's perf_counter clock, read at one moment."""
    return perf_now_ns + (epoch_ns - epoch_now_ns)


class StartBarrier:
    """Holds every share until all are ready, then hands them one wall-clock start instant.

    It also carries the driver's stop requests (Ctrl-C) to the actors, which cannot be
    signalled from another machine: each actor polls `stops` and signals itself.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.ready = 0
        self.start_epoch_ns: int | None = None
        self.released = asyncio.Event()
        self.stop_requests = 0
        self.snapshots: dict[int, list[ProgressSnapshot]] = {}

    async def ready_and_wait(self) -> int | None:
        self.ready += 1
        if self.ready == self.count and not self.released.is_set():
            self.start_epoch_ns = time.time_ns() + START_LEAD_NS
            self.released.set()
        await self.released.wait()
        return self.start_epoch_ns  # None: called off

    def call_off(self) -> bool:
        """Release the waiters without a start (a share failed to set up); False if too late."""
        if self.released.is_set():
            return False
        self.released.set()
        return True

    def request_stop(self) -> bool:
        """One Ctrl-C for every actor: the first lets requests finish, a second stops at once.

        Before the start it calls the start off (True, as call_off).
        """
        self.stop_requests += 1
        return self.call_off()

    def stops(self) -> int:
        return self.stop_requests

    def start_instant(self) -> int | None:
        """The common start in epoch nanoseconds; None before it (or called off)."""
        return self.start_epoch_ns

    def post_progress(self, index: int, snapshot: ProgressSnapshot) -> None:
        """An actor's live progress snapshot, kept until the driver takes it."""
        self.snapshots.setdefault(index, []).append(snapshot)

    def take_progress(self) -> dict[int, list[ProgressSnapshot]]:
        """Every snapshot posted since the last call, in order (each carries only what
        changed in the TTFT buckets, so none may be skipped)."""
        taken, self.snapshots = self.snapshots, {}
        return taken


class ShareActor:
    """One worker on a Ray node: run_share in a scratch folder, its files sent back as text."""

    def run(self, scenario: Scenario, spec: ShareSpec, barrier: Any) -> dict[str, Any]:
        import ray  # optional dependency (loadgen[ray]); this code runs only inside an actor

        def start_at() -> int:
            start_epoch_ns = ray.get(barrier.ready_and_wait.remote())
            if start_epoch_ns is None:
                raise NotStarted
            return local_instant(start_epoch_ns, time.perf_counter_ns(), time.time_ns())

        posted: list[Any] = []  # the last post's reference, to wait for before answering

        def publish(snapshot: ProgressSnapshot) -> None:
            posted[:] = [barrier.post_progress.remote(spec.share.index, snapshot)]

        scratch = Path(tempfile.mkdtemp(prefix="loadgen-ray-"))
        answer: dict[str, Any] = {"exit_code": None, "error": None, "died": None}
        finished = threading.Event()
        # Ray blocks SIGINT in its worker processes; the run's own handler needs it, for the
        # stops the driver passes on (_pass_stops_on).
        mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        threading.Thread(target=_pass_stops_on, args=(barrier, finished), daemon=True).start()
        try:
            result = run_share(scenario, replace(spec, folder=scratch), start_at, publish)
            answer["exit_code"] = result.exit_code
        except NotStarted:
            answer["exit_code"] = 2
        except KeyboardInterrupt:  # a stop that came as the run was ending
            answer["exit_code"] = 130
        except LoadgenError as exc:
            answer.update(exit_code=exc.exit_code, error=str(exc))
        except Exception as exc:  # a bug: reported as a death, with what it wrote so far
            answer["died"] = f"raised {type(exc).__name__}: {exc}"[:300]
        finally:
            for name in ("report.json", "samples.jsonl"):
                path = scratch / name
                answer[name] = path.read_text() if path.is_file() else None
            shutil.rmtree(scratch, ignore_errors=True)
            if posted:  # the final snapshot reaches the barrier before the driver's last look
                with suppress(Exception):
                    ray.get(posted[0], timeout=10)
            finished.set()
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        return answer


def _pass_stops_on(barrier: Any, finished: threading.Event) -> None:
    """In an actor: each stop the driver asked for becomes a SIGINT to this process.

    The run's own handler takes it (loadgen/engine/stopping.py): the first lets requests in flight
    finish within the grace period, a second stops at once, as in a local run.
    """
    import ray  # optional dependency (loadgen[ray]); this code runs only inside an actor

    seen = 0
    while not finished.wait(STOP_POLL_S):
        stops = int(ray.get(barrier.stops.remote()))
        for _ in range(stops - seen):
            if not finished.is_set():
                os.kill(os.getpid(), signal.SIGINT)
        seen = stops


class _SignalCount:
    """SIGINT and SIGTERM on the driver, counted; the launcher's loop passes them on."""

    def __init__(self) -> None:
        self.count = 0
        self.forwarded = 0

    @contextmanager
    def counting(self) -> Iterator[None]:
        def count(signum: int, frame: object) -> None:
            self.count += 1  # no Ray call in a signal handler: the loop makes it

        with stop_signals_handled_by(count):
            yield


def _answer(ray: Any, ref: Any) -> dict[str, Any]:
    """An actor's answer, or one saying why there is none: the actor died (RayActorError:
    its process or its node is gone) or its task failed outside the run (RayTaskError)."""
    try:
        return dict(ray.get(ref))
    except ray.exceptions.RayError as exc:
        how = _last_line(exc) if isinstance(exc, ray.exceptions.RayTaskError) else None
        died = f"{type(exc).__name__}" + (f": {how}" if how else "")
        return {**_no_files(), "exit_code": None, "error": None, "died": died}


def _last_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[-1][:200]


def _no_files() -> dict[str, Any]:
    return {"report.json": None, "samples.jsonl": None}


def _not_ready() -> dict[str, Any]:
    error = f"not ready within {READY_TIMEOUT_S:.0f} s"
    return {**_no_files(), "exit_code": None, "error": error, "died": None}


def _seconds_since_start(ray: Any, barrier: Any) -> float | None:
    """Now, in seconds from the common start (None: before it, or the barrier is gone)."""
    with suppress(Exception):
        start_epoch_ns = ray.get(barrier.start_instant.remote(), timeout=5)
        if start_epoch_ns is not None:
            return max(0.0, (time.time_ns() - int(start_epoch_ns)) / 1e9)
    return None


def _show_progress(ray: Any, barrier: Any, progress: WorkersProgress) -> None:
    """The actors' snapshots since the last look, into the view; a redraw if due."""
    with suppress(Exception):  # the barrier is gone: the view stays as it was
        for index, snapshots in ray.get(barrier.take_progress.remote(), timeout=5).items():
            for snapshot in snapshots:
                progress.update(index, snapshot)
    progress.tick()


def _run_actors(
    scenario: Scenario, options: RunOptions, workers: int, out_dir: Path, emulator_url: str | None
) -> list[WorkerOutcome]:
    """run_with_workers' launcher: one actor per share; their files written under out_dir."""
    ray = import_ray()  # Any: Ray's handles are dynamic

    barrier = ray.remote(StartBarrier).remote(workers)
    actor_class = ray.remote(num_cpus=1)(ShareActor)
    actors = [actor_class.remote() for _ in range(workers)]
    folders = [out_dir / "workers" / str(k) for k in range(workers)]
    pending = {
        actor.run.remote(
            scenario, share_spec(options, folders[k], k, workers, emulator_url, scenario), barrier
        ): k
        for k, actor in enumerate(actors)
    }
    answers: dict[int, dict[str, Any]] = {}
    died_at: dict[int, float | None] = {}
    deadline = time.monotonic() + READY_TIMEOUT_S
    settled = False  # started or called off: the barrier has done its job
    called_off = False  # no start: every share still running is stuck before it
    signals = _SignalCount()
    stopped = False
    progress = WorkersProgress.start_if_wanted(options.display, scenario, workers)
    looked_at = 0.0
    try:
        with signals.counting():
            while pending:
                if progress is not None and time.monotonic() - looked_at >= REFRESH_S:
                    looked_at = time.monotonic()
                    _show_progress(ray, barrier, progress)
                done, _ = ray.wait(list(pending), num_returns=1, timeout=0.2)
                for ref in done:
                    index = pending.pop(ref)
                    answers[index] = _answer(ray, ref)
                    if answers[index].get("died") is not None:
                        died_at[index] = _seconds_since_start(ray, barrier)
                    if answers[index]["exit_code"] not in (0, 99, 130) and not stopped:
                        # One share failed or stopped early (a guard): stop the others as Ctrl-C
                        # would; before the start, that calls the start off.
                        signals.count += 1
                        stopped = True
                while signals.forwarded < signals.count:
                    called_off = bool(ray.get(barrier.request_stop.remote())) or called_off
                    signals.forwarded += 1
                    settled = True
                if not settled and time.monotonic() > deadline:
                    called_off = ray.get(barrier.call_off.remote())  # a share never got ready
                    settled = True
                if called_off and pending and time.monotonic() > deadline + READY_TIMEOUT_S:
                    for index in pending.values():  # never placed, or stuck in setup: give up
                        ray.kill(actors[index])
                        answers[index] = _not_ready()
                    pending.clear()
    finally:
        if progress is not None:
            _show_progress(ray, barrier, progress)
            progress.stop()
    outcomes = []
    for k in range(workers):
        answer = answers[k]
        folders[k].mkdir(parents=True, exist_ok=True)
        for name in ("report.json", "samples.jsonl"):
            if answer[name] is not None:
                (folders[k] / name).write_text(answer[name])
        outcomes.append(
            WorkerOutcome(
                k,
                folders[k],
                answer["exit_code"],
                answer["error"],
                died=answer.get("died"),
                died_at_s=died_at.get(k),
            )
        )
    return outcomes
