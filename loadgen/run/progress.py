"""Live progress in the terminal during a run: it only reads what the run already keeps.

Twice a second a run takes a ProgressSnapshot: a few counters the runner and the recorder
keep anyway (no extra work per request) and references to the time series' TTFT log buckets
of the last seconds. A ProgressBoard sums the snapshots of one or more sources and draws the
view from the sum: in a single-process run the one source is the run itself; with
`--workers N` or `--ray` each worker sends its snapshots to the parent (SnapshotPublisher),
and the parent's board sums them (loadgen/scale/progress.py). TTFT percentiles come from
the summed buckets, never from averaged percentiles.

Where the view goes depends on the terminal (progress_output): on a terminal it is redrawn in
place (LiveView); where nothing can be redrawn (a pipe, a file, CI) a plain line is printed
every 10 s of the run instead (ProgressLines), so a CI log is not silent until the summary.

Each redraw costs well under a millisecond of the event loop, so it does not move the
schedule (benchmarks/accuracy_w1.py --progress and benchmarks/progress_cost.py measure it).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from rich.console import Console
from rich.live import Live
from rich.text import Text

from loadgen.config.load_models import target_rps
from loadgen.config.scenario import Scenario
from loadgen.core.clock import Clock
from loadgen.record.recorder import Recorder
from loadgen.record.second_stats import LogBuckets, percentiles_of
from loadgen.report.console import DROPPED_STYLE, ERRORS_STYLE
from loadgen.report.fit import short_names
from loadgen.run.display import Display

# (sent, dropped, in flight) so far, as the runner counts them.
SendCounts = tuple[int, int, int]

REFRESH_S = 0.5
TTFT_WINDOW_S = 10  # TTFT percentiles over the last 10 whole seconds
RATE_WINDOW_S = 5.0
BAR_WIDTH = 40


class ModelCounts(NamedTuple):
    done: int  # measured requests that ended, ok or not (dropped ones are not sent)
    ok: int
    errors: dict[str, int]  # by error class, dropped included


class ProgressSnapshot(NamedTuple):
    """One source's counters at one instant: small, picklable, cheap to take (a NamedTuple:
    a frozen dataclass takes several times as long to build).

    `ttft` holds the TTFT log buckets of recent seconds, per model and second: all of the
    window in a single process (references, not copies), only the changed ones in what a
    worker sends (SnapshotPublisher).
    """

    elapsed_s: float
    sent: int
    dropped: int
    in_flight: int
    completed: int
    models: dict[str, ModelCounts]
    ttft: dict[str, dict[int, LogBuckets]]
    cpu_s: float  # this process's CPU time so far, for a worker's CPU %
    wall_s: float  # perf_counter at the same moment


def take_snapshot(
    recorder: Recorder,
    counts: Callable[[], SendCounts],
    clock: Clock,
    t0_ns: int,
    sent_totals: dict[tuple[str, int], int] | None = None,
) -> ProgressSnapshot:
    """Read the run's counters: a few attribute reads and dict lookups, no per-request work.

    sent_totals: the bucket totals already sent, per (model, second); given, only the TTFT
    seconds whose buckets changed since are taken, and it is brought up to date.
    """
    elapsed_s = (clock.now_ns() - t0_ns) / 1e9
    sent, dropped, in_flight = counts()
    last = int(max(elapsed_s, 0))
    ttft = {}
    for model, seconds in recorder.series.detail.ttft.items():
        recent = {}
        for second in range(last - TTFT_WINDOW_S + 1, last + 1):
            buckets = seconds.get(second)
            if buckets is None:
                continue
            if sent_totals is not None:
                key = (model, second)
                if sent_totals.get(key) == buckets.total:
                    continue
                sent_totals[key] = buckets.total
            recent[second] = buckets
        if recent:
            ttft[model] = recent
    return ProgressSnapshot(
        elapsed_s=elapsed_s,
        sent=sent,
        dropped=dropped,
        in_flight=in_flight,
        completed=recorder.dispatched,
        models={
            model: ModelCounts(stats.sent, stats.ok, dict(stats.errors))
            for model, stats in recorder.models.items()
        },
        ttft=ttft,
        cpu_s=time.process_time(),
        wall_s=time.perf_counter(),
    )


@dataclass(frozen=True)
class ProgressPlan:
    """What the view measures the run against."""

    name: str
    target_rps: float | None  # None in closed loop: no target there
    planned_s: float | None
    planned_requests: int | None

    @classmethod
    def of(cls, scenario: Scenario, phases: int) -> ProgressPlan:
        load = scenario.load
        return cls(
            name=scenario.name,
            target_rps=target_rps(load),
            planned_s=None if load.duration is None else phases * (load.warmup + load.duration),
            planned_requests=None if load.requests is None else phases * load.requests,
        )


class ProgressBoard:
    """The latest snapshot of each source, summed, and the one view drawn from the sum."""

    def __init__(self, plan: ProgressPlan, workers: int | None = None) -> None:
        self._plan = plan
        self._workers = workers  # a --workers/--ray run: a line for them
        self._latest: dict[int, ProgressSnapshot] = {}
        self._buckets: dict[int, dict[str, dict[int, LogBuckets]]] = {}
        self._cpu_percent: dict[int, float] = {}
        # (elapsed s, sent, released) of recent redraws; the run starts at 0 with nothing sent.
        self._sends: deque[tuple[float, int, int]] = deque([(0.0, 0, 0)])
        self._ttft_cache: dict[str, tuple[int, list[float | None]]] = {}

    def update(self, source: int, snapshot: ProgressSnapshot) -> None:
        previous = self._latest.get(source)
        if previous is not None and snapshot.wall_s > previous.wall_s:
            busy = snapshot.cpu_s - previous.cpu_s
            self._cpu_percent[source] = 100 * busy / (snapshot.wall_s - previous.wall_s)
        self._latest[source] = snapshot
        kept = self._buckets.setdefault(source, {})
        oldest = int(max(snapshot.elapsed_s, 0)) - TTFT_WINDOW_S
        for model, seconds in snapshot.ttft.items():
            kept.setdefault(model, {}).update(seconds)
        for mine in kept.values():  # out of every window from now on
            for second in [s for s in mine if s <= oldest]:
                del mine[second]

    def totals(self) -> ProgressSnapshot:
        """The sum over the sources (ttft: every source's buckets, to merge, not averaged)."""
        snapshots = list(self._latest.values())
        models: dict[str, ModelCounts] = {}
        for snapshot in snapshots:
            for model, counts in snapshot.models.items():
                done, ok, errors = models.get(model, ModelCounts(0, 0, {}))
                merged = Counter(errors)
                merged.update(counts.errors)
                models[model] = ModelCounts(done + counts.done, ok + counts.ok, dict(merged))
        return ProgressSnapshot(
            elapsed_s=max((s.elapsed_s for s in snapshots), default=0.0),
            sent=sum(s.sent for s in snapshots),
            dropped=sum(s.dropped for s in snapshots),
            in_flight=sum(s.in_flight for s in snapshots),
            completed=sum(s.completed for s in snapshots),
            models=models,
            ttft={},
            cpu_s=sum(s.cpu_s for s in snapshots),
            wall_s=max((s.wall_s for s in snapshots), default=0.0),
        )

    def ttft_ms(self, model: str | None, last_second: int) -> list[float | None]:
        """TTFT p50/p99 (ms) over seconds (last_second - window, last_second], every source;
        of one model, or of every model together (None)."""
        parts = [
            buckets
            for by_model in self._buckets.values()
            for name, seconds in by_model.items()
            if model is None or name == model
            for second, buckets in seconds.items()
            if last_second - TTFT_WINDOW_S < second <= last_second
        ]
        return [None if v is None else round(v / 1000, 3) for v in percentiles_of(parts, [50, 99])]

    def render(self, width: int | None = None) -> Text:
        """The view as one Text: a rich Table would cost several milliseconds of layout per
        redraw, on the event loop. Its lines wrap at `width` rather than lose a figure; model
        ids too long for it are shortened (short names as in the summary's legend)."""
        plan = self._plan
        now = self.totals()
        elapsed_s = max(now.elapsed_s, 0.0)
        errors = _errors(now)
        achieved, scheduled, window_s = self._rates(now)

        view = Text(overflow="fold")
        view.append(f"{plan.name} ", style="bold")
        view.append(f"{elapsed_s:.1f} s")
        share: float | None = None
        if self._draining(now):
            planned = f" of {plan.planned_s:g} s" if plan.planned_s else ""
            view.append(f"{planned}: draining, {now.in_flight:,} in flight ", style="yellow")
        elif plan.planned_s:
            left = max(plan.planned_s - elapsed_s, 0)
            view.append(f" of {plan.planned_s:g} s, {left:.0f} s left ")
            share = min(elapsed_s / plan.planned_s, 1.0)
        elif plan.planned_requests:
            view.append(f", {now.sent:,} of {plan.planned_requests:,} requests ")
            share = min(now.sent / plan.planned_requests, 1.0)
        if share is not None:
            bar = BAR_WIDTH if width is None else max(min(BAR_WIDTH, width - len(view)), 10)
            filled = round(share * bar)
            view.append("━" * filled, style="green")
            view.append("━" * (bar - filled), style="bright_black")
        view.append(
            f"\nsent {now.sent:,}  in flight {now.in_flight:,}  completed {now.completed:,}  "
        )
        view.append(f"dropped {now.dropped:,}", style=DROPPED_STYLE if now.dropped else "")
        error_text = ", ".join(f"{name} {count:,}" for name, count in sorted(errors.items()))
        view.append(f"  errors: {error_text or 'none'}", style=ERRORS_STYLE if errors else "")
        target = "closed loop," if plan.target_rps is None else f"target {plan.target_rps:g} req/s,"
        of_scheduled = "" if plan.target_rps is None else f" of {scheduled:.2f} scheduled"
        view.append(
            f"\nrate: {target} achieved {achieved:.2f} req/s{of_scheduled}"
            f" (last {window_s:.0f} s)\n"
        )
        if self._workers is not None:
            cpu = "  ".join(
                f"{k}: {self._cpu_percent[k]:.0f} %" if k in self._cpu_percent else f"{k}: -"
                for k in range(self._workers)
            )
            view.append(f"workers: {self._workers}  CPU of a core: {cpu}\n")
        names = {model: model for model in now.models}
        head = f"  {'done':>7}  {'errors':>6}  TTFT p50 / p99 ms (last {TTFT_WINDOW_S} s)"
        if width is not None and max(map(len, names), default=0) + len(head) > width:
            names = short_names(list(now.models))
        name_width = max((len(name) for name in names.values()), default=5)
        view.append(f"{'model':<{name_width}}{head}", style="bold")
        for model, counts in now.models.items():
            p50, p99 = self._ttft(model, int(elapsed_s))
            view.append(
                f"\n{names[model]:<{name_width}}  {counts.done:>7,}  "
                f"{counts.done - counts.ok:>6,}  {_ms(p50):>8} / {_ms(p99)}"
            )
        return view

    def line(self) -> str:
        """The view as one plain line, for a log (not a terminal): sent, in flight, errors,
        TTFT p50/p99 of every model together, achieved against scheduled rate."""
        plan = self._plan
        now = self.totals()
        elapsed_s = max(now.elapsed_s, 0.0)
        achieved, scheduled, window_s = self._rates(now)
        errors = sum(_errors(now).values())
        p50, p99 = self.ttft_ms(None, int(elapsed_s))
        parts = [
            f"progress {elapsed_s:.0f} s"
            + (f" of {plan.planned_s:g} s" if plan.planned_s else "")
            + (": draining" if self._draining(now) else ""),
            f"sent {now.sent:,}",
            f"in flight {now.in_flight:,}",
            f"dropped {now.dropped:,}",
            f"errors {errors:,}",
            f"TTFT p50 {_ms(p50)} / p99 {_ms(p99)} ms (last {TTFT_WINDOW_S} s)",
        ]
        if plan.target_rps is None:
            parts.append(f"achieved {achieved:.2f} req/s (closed loop, last {window_s:.0f} s)")
        else:
            parts.append(
                f"achieved {achieved:.2f} of {scheduled:.2f} req/s scheduled "
                f"(target {plan.target_rps:g}, last {window_s:.0f} s)"
            )
        return ", ".join(parts)

    def _draining(self, now: ProgressSnapshot) -> bool:
        """Past the schedule's end, with requests still in flight: the run waits for them."""
        plan = self._plan
        if plan.planned_s:
            return now.elapsed_s > plan.planned_s
        if plan.planned_requests:
            return now.sent + now.dropped >= plan.planned_requests and now.in_flight > 0
        return False

    def _ttft(self, model: str, second: int) -> list[float | None]:
        """TTFT p50/p99 over the last seconds; recomputed once a second, not every redraw."""
        cached = self._ttft_cache.get(model)
        if cached is None or cached[0] != second:
            cached = self._ttft_cache[model] = (second, self.ttft_ms(model, second))
        return cached[1]

    def _rates(self, now: ProgressSnapshot) -> tuple[float, float, float]:
        """Achieved (sent) and scheduled (sent or dropped: what the schedule released) requests
        per second over the last few seconds of the run's clock, and that window's length."""
        self._sends.append((now.elapsed_s, now.sent, now.sent + now.dropped))
        while len(self._sends) > 2 and now.elapsed_s - self._sends[1][0] >= RATE_WINDOW_S:
            self._sends.popleft()
        first_s, first_sent, first_released = self._sends[0]
        span = now.elapsed_s - first_s
        if span <= 0:
            return 0.0, 0.0, 0.0
        return (
            (now.sent - first_sent) / span,
            (now.sent + now.dropped - first_released) / span,
            span,
        )


class LiveView:
    """The view redrawn in place, on a terminal (or where LOADGEN_PROGRESS=1 asks for it)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._live = Live(console=console, auto_refresh=False, transient=False)

    def start(self) -> None:
        self._live.start()

    def show(self, board: ProgressBoard) -> None:
        self._live.update(board.render(self._console.width), refresh=True)

    def close(self, board: ProgressBoard) -> None:
        """The last redraw, left on screen."""
        with contextlib.suppress(Exception):
            self.show(board)
        self._live.stop()


class ProgressLines:
    """A plain line every `every_s` seconds of the run, where nothing can be redrawn (a log,
    CI): without it such a run prints nothing until its summary."""

    def __init__(self, console: Console, every_s: float) -> None:
        self._console = console
        self._every_s = every_s
        self._next_s = every_s

    def start(self) -> None:
        pass

    def show(self, board: ProgressBoard) -> None:
        elapsed_s = board.totals().elapsed_s
        if elapsed_s < self._next_s:
            return
        self._console.print(board.line(), markup=False, highlight=False, soft_wrap=True)
        self._next_s = (elapsed_s // self._every_s + 1) * self._every_s

    def close(self, board: ProgressBoard) -> None:
        pass  # the summary follows


ProgressOutput = LiveView | ProgressLines


def progress_output(display: Display) -> ProgressOutput | None:
    """How this display shows progress: redrawn, in lines, or not at all (--quiet)."""
    if display.progress_wanted():
        return LiveView(display.console)
    if display.progress_lines_wanted():
        return ProgressLines(display.console, display.lines_every_s())
    return None


class LiveProgress:
    """A single-process run's progress, shown on its own asyncio task."""

    def __init__(
        self,
        console: Console,
        scenario: Scenario,
        recorder: Recorder,
        counts: Callable[[], SendCounts],
        clock: Clock,
        t0_ns: int,
        phases: int,
        output: ProgressOutput | None = None,
    ) -> None:
        self._board = ProgressBoard(ProgressPlan.of(scenario, phases))
        self._console = console
        self._recorder = recorder
        self._counts = counts
        self._clock = clock
        self._t0_ns = t0_ns
        self._output = LiveView(console) if output is None else output
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def start_if_wanted(
        cls,
        display: Display,
        publish: Callable[[ProgressSnapshot], object] | None,
        scenario: Scenario,
        recorder: Recorder,
        counts: Callable[[], SendCounts],
        clock: Clock,
        t0_ns: int,
        phases: int,
    ) -> LiveProgress | SnapshotPublisher | None:
        """Start it as the display wants it (progress_output). In a worker, `publish` sends
        snapshots to the parent instead (given only when the parent shows progress)."""
        if publish is not None:
            return SnapshotPublisher.start(publish, recorder, counts, clock, t0_ns)
        output = progress_output(display)
        if output is None:
            return None
        progress = cls(display.console, scenario, recorder, counts, clock, t0_ns, phases, output)
        output.start()
        progress._task = asyncio.create_task(progress._loop(), name="loadgen-live-progress")
        return progress

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            self._take_snapshot()
        self._output.close(self._board)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            try:
                self._take_snapshot()
                self._output.show(self._board)
            except Exception:  # a display problem must never end the run
                return

    def render(self) -> Text:
        self._take_snapshot()
        return self._board.render(self._console.width)

    def _take_snapshot(self) -> None:
        self._board.update(0, take_snapshot(self._recorder, self._counts, self._clock, self._t0_ns))


class SnapshotPublisher:
    """In a worker: a snapshot to the parent twice a second, and a last one at the end.

    Only the TTFT seconds whose buckets changed since the last send travel (the parent's
    board keeps the others), so a snapshot stays a few hundred bytes.
    """

    def __init__(
        self,
        publish: Callable[[ProgressSnapshot], object],
        recorder: Recorder,
        counts: Callable[[], SendCounts],
        clock: Clock,
        t0_ns: int,
    ) -> None:
        self._publish = publish
        self._recorder = recorder
        self._counts = counts
        self._clock = clock
        self._t0_ns = t0_ns
        self._sent_totals: dict[tuple[str, int], int] = {}
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def start(
        cls,
        publish: Callable[[ProgressSnapshot], object],
        recorder: Recorder,
        counts: Callable[[], SendCounts],
        clock: Clock,
        t0_ns: int,
    ) -> SnapshotPublisher:
        publisher = cls(publish, recorder, counts, clock, t0_ns)
        publisher._task = asyncio.create_task(publisher._loop(), name="loadgen-progress-send")
        return publisher

    def snapshot(self) -> ProgressSnapshot:
        """take_snapshot, less the TTFT seconds the parent already has as they are."""
        snapshot = take_snapshot(
            self._recorder, self._counts, self._clock, self._t0_ns, self._sent_totals
        )
        if len(self._sent_totals) > 4 * TTFT_WINDOW_S * max(len(self._recorder.models), 1):
            oldest = int(max(snapshot.elapsed_s, 0)) - TTFT_WINDOW_S  # out of every window
            self._sent_totals = {k: v for k, v in self._sent_totals.items() if k[1] > oldest}
        return snapshot

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._send()  # the final counts: the parent's last redraw shows the whole run

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            self._send()

    def _send(self) -> None:
        with contextlib.suppress(Exception):  # the parent is gone: the run goes on, unseen
            self._publish(self.snapshot())


def _errors(now: ProgressSnapshot) -> Counter[str]:
    """Errors by class over every model; drops apart (they were never sent)."""
    errors: Counter[str] = Counter()
    for counts in now.models.values():
        errors.update(counts.errors)
    errors.pop("dropped", None)
    return errors


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"
