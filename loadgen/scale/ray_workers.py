"""`loadgen run --ray [ADDRESS]`: the `--workers` run with Ray actors as the workers.

The split, the emulator, the exact merge and the report are loadgen/scale/workers.py's; only the
launcher differs. Each actor calls `workers.run_share`, as a local worker process does, on its
share of the schedule. Actors may be on other machines, so:

- they are spread over the cluster's nodes (SPREAD), and the report says which node each
  share ran on (`run.workers[].node`); the barrier actor stays on the driver's node
  (loadgen/scale/ray_placement.py).
- the common start is a wall-clock (epoch) instant, chosen by the barrier actor once every
  share is ready (loadgen/scale/ray_barrier.py); each actor converts it to its own
  perf_counter clock on arrival. That assumes the machines' clocks agree to within the
  schedule's tolerance: NTP-level sync (a few ms) is enough; without it the shares interleave
  with that offset.
- an actor writes its run to a temporary folder on its node. Its samples.jsonl travels to the
  driver while the run goes: every FLUSH_S the lines written since the last flush go to the
  barrier, and the driver appends them to `workers/<k>/samples.jsonl`
  (loadgen/scale/ray_samples.py); its report.json and last lines come with its answer.
- live progress: where the driver draws it, each actor posts its snapshots to the barrier
  actor (fire and forget), and the driver collects them twice a second, as it would read a
  local worker's pipe (loadgen/scale/progress.py).
- an actor that dies (its process killed, its node lost: Ray raises RayActorError or
  ActorUnavailableError) is reported as such, as a local worker's death is: the others are
  stopped, the run is `aborted`, exit 7, the status reason names the actor and its node, and
  its report is rebuilt from the samples it had sent (loadgen/scale/dead_share.py): only the
  requests that ended in its last FLUSH_S, and those in flight, are lost. An actor whose run
  raises (a bug) is a death too, with all it wrote.
"""

from __future__ import annotations

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
from loadgen.report.schema import WorkerNode
from loadgen.run import RunOptions, RunResult
from loadgen.run.progress import REFRESH_S, ProgressSnapshot
from loadgen.scale.merge_shares import WorkerOutcome
from loadgen.scale.progress import WorkersProgress
from loadgen.scale.ray_barrier import StartBarrier
from loadgen.scale.ray_placement import SPREAD, node_lost, on_the_driver_node, this_node
from loadgen.scale.ray_samples import FLUSH_S, NewLines, ShareSamples
from loadgen.scale.share import NotStarted, ShareSpec, run_share, share_spec
from loadgen.scale.signals import stop_signals_handled_by
from loadgen.scale.worker_count import workers_for
from loadgen.scale.workers import READY_TIMEOUT_S, run_with_workers

INSTALL_HINT = "pip install 'loadgen[ray]'"
POST_TIMEOUT_S = 10.0  # one flush to the barrier; past it, sent again from the same offset


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


class ShareActor:
    """One worker on a Ray node: run_share in a scratch folder; its samples sent to the
    driver as they are written, its report with its answer."""

    def where(self) -> WorkerNode:
        """The node this actor was placed on (asked first: known even if it dies later)."""
        import ray  # optional dependency (loadgen[ray]); this code runs only inside an actor

        return this_node(ray)

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
        lines = NewLines(scratch / "samples.jsonl")
        answer: dict[str, Any] = {"exit_code": None, "error": None, "died": None}
        finished = threading.Event()
        # Ray blocks SIGINT in its worker processes; the run's own handler needs it, for the
        # stops the driver passes on (_keep_in_touch).
        mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        in_touch = threading.Thread(
            target=_keep_in_touch,
            args=(barrier, spec.share.index, lines, finished),
            daemon=True,
        )
        in_touch.start()
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
            finished.set()
            in_touch.join()  # its last post answered (or given up): `lines.sent` is final
            answer["samples"] = lines.rest()  # what no flush carried: the last moments
            report = scratch / "report.json"
            answer["report.json"] = report.read_text() if report.is_file() else None
            shutil.rmtree(scratch, ignore_errors=True)
            if posted:  # the final snapshot reaches the barrier before the driver's last look
                with suppress(Exception):
                    ray.get(posted[0], timeout=10)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        return answer


def _keep_in_touch(barrier: Any, index: int, lines: NewLines, finished: threading.Event) -> None:
    """In an actor, every FLUSH_S until the run ends: the samples written since the last
    flush go to the barrier (acknowledged before the next, so none is lost in between), and
    each stop the driver asked for becomes a SIGINT to this process.

    The run's own handler takes the SIGINT (loadgen/engine/stopping.py): the first lets
    requests in flight finish within the grace period, a second stops at once, as in a local
    run.
    """
    import ray  # optional dependency (loadgen[ray]); this code runs only inside an actor

    seen = 0
    while not finished.wait(FLUSH_S):
        chunk = lines.next_chunk()
        try:
            if chunk is None:
                stops = int(ray.get(barrier.stops.remote(), timeout=POST_TIMEOUT_S))
            else:
                post = barrier.post_samples.remote(index, *chunk)
                stops = int(ray.get(post, timeout=POST_TIMEOUT_S))
                lines.acknowledge(*chunk)
        except Exception:  # the barrier is slow or gone: the same lines go again next time
            continue
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
    its process or its node is gone; ActorUnavailableError: unreachable, which for an actor
    that is never restarted is as good as gone) or its task failed outside the run
    (RayTaskError)."""
    try:
        return dict(ray.get(ref))
    except ray.exceptions.RayError as exc:
        how = _last_line(exc) if isinstance(exc, ray.exceptions.RayTaskError) else None
        died = f"{type(exc).__name__}" + (f": {how}" if how else "")
        return {**_no_files(), "exit_code": None, "error": None, "died": died}


def _last_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[-1][:200]


def _no_files() -> dict[str, Any]:
    return {"report.json": None, "samples": None}


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


class _Collected:
    """The samples the actors flushed, taken from the barrier into each share's samples.jsonl
    (the barrier keeps each chunk until a later look says it was written)."""

    def __init__(self, folders: list[Path]) -> None:
        self.shares = [ShareSamples(folder / "samples.jsonl") for folder in folders]
        self.written = 0  # the number of the last chunk written

    def take(self, ray: Any, barrier: Any) -> None:
        with suppress(Exception):  # the barrier is slow: what it holds is taken next time
            for number, index, offset, data in ray.get(
                barrier.take_samples.remote(self.written), timeout=10
            ):
                self.shares[index].add(offset, data)
                self.written = max(self.written, number)


def _placed(ray: Any, where: dict[Any, int], nodes: dict[int, WorkerNode]) -> None:
    """The nodes of the actors that have said where they are since the last look."""
    if not where:
        return
    ready, _ = ray.wait(list(where), num_returns=len(where), timeout=0)
    for ref in ready:
        index = where.pop(ref)
        with suppress(ray.exceptions.RayError):  # died before it said: node unknown
            nodes[index] = ray.get(ref)


def _run_actors(
    scenario: Scenario, options: RunOptions, workers: int, out_dir: Path, emulator_url: str | None
) -> list[WorkerOutcome]:
    """run_with_workers' launcher: one actor per share, spread over the nodes; their files
    written under out_dir, the samples as the run goes."""
    ray = import_ray()  # Any: Ray's handles are dynamic

    barrier = (
        ray.remote(StartBarrier)
        .options(num_cpus=0, scheduling_strategy=on_the_driver_node(ray))
        .remote(workers)
    )
    actor_class = ray.remote(num_cpus=1, scheduling_strategy=SPREAD)(ShareActor)
    actors = [actor_class.remote() for _ in range(workers)]
    where = {actor.where.remote(): k for k, actor in enumerate(actors)}
    folders = [out_dir / "workers" / str(k) for k in range(workers)]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    collected = _Collected(folders)
    pending = {
        actor.run.remote(
            scenario, share_spec(options, folders[k], k, workers, emulator_url, scenario), barrier
        ): k
        for k, actor in enumerate(actors)
    }
    nodes: dict[int, WorkerNode] = {}
    answers: dict[int, dict[str, Any]] = {}
    died_at: dict[int, float | None] = {}
    deadline = time.monotonic() + READY_TIMEOUT_S
    settled = False  # started or called off: the barrier has done its job
    called_off = False  # no start: every share still running is stuck before it
    signals = _SignalCount()
    stopped = False
    progress = WorkersProgress.start_if_wanted(options.display, scenario, workers)
    looked_at = 0.0
    taken_at = 0.0
    try:
        with signals.counting():
            while pending:
                _placed(ray, where, nodes)
                if time.monotonic() - taken_at >= FLUSH_S:
                    taken_at = time.monotonic()
                    collected.take(ray, barrier)
                if progress is not None and time.monotonic() - looked_at >= REFRESH_S:
                    looked_at = time.monotonic()
                    _show_progress(ray, barrier, progress)
                done, _ = ray.wait(list(pending), num_returns=1, timeout=0.2)
                for ref in done:
                    index = pending.pop(ref)
                    answers[index] = _answer(ray, ref)
                    if answers[index].get("died") is not None:
                        died_at[index] = _seconds_since_start(ray, barrier)
                        with suppress(Exception):  # unreachable is as good as dead: make
                            ray.kill(actors[index])  # sure it sends no load unseen
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
    _placed(ray, where, nodes)
    collected.take(ray, barrier)  # every flush was acknowledged before its actor answered
    for k, answer in answers.items():  # checked last: Ray may take seconds to tell
        if answer["died"] is not None and k in nodes and node_lost(ray, nodes[k]["id"]):
            answer["died"] = f"node lost: {answer['died']}"
    return [
        _outcome(k, folders[k], answers[k], collected.shares[k], nodes, died_at)
        for k in range(workers)
    ]


def _outcome(
    index: int,
    folder: Path,
    answer: dict[str, Any],
    samples: ShareSamples,
    nodes: dict[int, WorkerNode],
    died_at: dict[int, float | None],
) -> WorkerOutcome:
    """One share's outcome, its last lines and report written into its folder."""
    if answer["samples"] is not None:
        samples.add(*answer["samples"])
    if answer["report.json"] is not None:
        (folder / "report.json").write_text(answer["report.json"])
    return WorkerOutcome(
        index,
        folder,
        answer["exit_code"],
        answer["error"],
        died=answer.get("died"),
        died_at_s=died_at.get(index),
        node=nodes.get(index),
    )
