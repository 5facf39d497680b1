"""Live progress in the terminal during a run: it only reads what the run already keeps.

It redraws twice a second on its own asyncio task, from counters the runner and the recorder
keep anyway (no extra work per request): sent and in flight from the runner, completions and
errors from the recorder, TTFT p50/p99 over the last seconds from the time series' log
buckets. Each redraw costs well under a millisecond of the event loop, so it does not move
the schedule (benchmarks/accuracy_w1.py --progress measures it).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from rich.console import Console
from rich.live import Live
from rich.text import Text

from loadgen.clock import Clock
from loadgen.load_models import target_rps
from loadgen.recorder import Recorder

if TYPE_CHECKING:  # only for annotations: run_measure.py imports this module
    from loadgen.scenario import Scenario

# (sent, dropped, in flight) so far, as the runner counts them.
SendCounts = tuple[int, int, int]

REFRESH_S = 0.5
TTFT_WINDOW_S = 10  # TTFT percentiles over the last 10 whole seconds
RATE_WINDOW_S = 5.0
BAR_WIDTH = 40
FORCE_ENV = "LOADGEN_PROGRESS"  # "1": show it even when stdout is not a terminal


class DisplayOptions(Protocol):
    console: Console
    quiet: bool
    progress: bool | None


class LiveProgress:
    def __init__(
        self,
        console: Console,
        scenario: Scenario,
        recorder: Recorder,
        counts: Callable[[], SendCounts],
        clock: Clock,
        t0_ns: int,
        phases: int,
    ) -> None:
        self._console = console
        self._name = scenario.name
        load = scenario.load
        self._target_rps = target_rps(load)  # None in closed loop: no target there
        self._planned_s = None if load.duration is None else phases * (load.warmup + load.duration)
        self._planned_requests = None if load.requests is None else phases * load.requests
        self._recorder = recorder
        self._counts = counts
        self._clock = clock
        self._t0_ns = t0_ns
        self._sends: deque[tuple[float, int]] = deque()
        self._ttft_cache: dict[str, tuple[int, list[float | None]]] = {}
        self._live = Live(console=console, auto_refresh=False, transient=False)
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def start_if_wanted(
        cls,
        options: DisplayOptions,
        scenario: Scenario,
        recorder: Recorder,
        counts: Callable[[], SendCounts],
        clock: Clock,
        t0_ns: int,
        phases: int,
    ) -> LiveProgress | None:
        """Start it when wanted: asked for, or on a terminal and not --quiet."""
        wanted = options.progress
        if wanted is None:
            forced = os.environ.get(FORCE_ENV) == "1"
            wanted = not options.quiet and (options.console.is_terminal or forced)
        if not wanted:
            return None
        progress = cls(options.console, scenario, recorder, counts, clock, t0_ns, phases)
        progress._live.start()
        progress._task = asyncio.create_task(progress._loop(), name="loadgen-live-progress")
        return progress

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            self._live.update(self.render(), refresh=True)
        self._live.stop()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_S)
            try:
                self._live.update(self.render(), refresh=True)
            except Exception:  # a display problem must never end the run
                return

    def render(self) -> Text:
        """The view as one Text of fixed-width lines: a rich Table would cost several
        milliseconds of layout per redraw, on the event loop."""
        elapsed_s = max(self._clock.now_ns() - self._t0_ns, 0) / 1e9
        sent, dropped, in_flight = self._counts()
        completed = self._recorder.dispatched
        errors: Counter[str] = Counter()
        for stats in self._recorder.models.values():
            errors.update(stats.errors)
        errors.pop("dropped", None)

        view = Text(no_wrap=True, overflow="ellipsis")
        view.append(f"{self._name} ", style="bold")
        view.append(f"{elapsed_s:6.1f} s")
        share: float | None = None
        if self._planned_s:
            left = max(self._planned_s - elapsed_s, 0)
            view.append(f" of {self._planned_s:g} s, {left:.0f} s left ")
            share = min(elapsed_s / self._planned_s, 1.0)
        elif self._planned_requests:
            view.append(f", {sent:,} of {self._planned_requests:,} requests ")
            share = min(sent / self._planned_requests, 1.0)
        if share is not None:
            filled = round(share * BAR_WIDTH)
            view.append("━" * filled, style="green")
            view.append("━" * (BAR_WIDTH - filled), style="bright_black")
        view.append(f"\nsent {sent:,}  in flight {in_flight:,}  completed {completed:,}  ")
        view.append(f"dropped {dropped:,}", style="yellow" if dropped else "")
        error_text = ", ".join(f"{name} {count:,}" for name, count in sorted(errors.items()))
        view.append(f"  errors: {error_text or 'none'}", style="red" if errors else "")
        target = (
            "closed loop," if self._target_rps is None else f"target {self._target_rps:g} req/s,"
        )
        view.append(
            f"\nrate: {target} achieved {self._achieved_rps(sent):.2f}"
            f" req/s (last {RATE_WINDOW_S:g} s)\n"
        )
        width = max((len(model) for model in self._recorder.models), default=5)
        view.append(
            f"{'model':<{width}}  {'done':>7}  {'errors':>6}  "
            f"TTFT p50 / p99 ms (last {TTFT_WINDOW_S} s)",
            style="bold",
        )
        for model, stats in self._recorder.models.items():
            p50, p99 = self._ttft(model, int(elapsed_s))
            view.append(
                f"\n{model:<{width}}  {stats.sent:>7,}  {stats.sent - stats.ok:>6,}  "
                f"{_ms(p50):>8} / {_ms(p99)}"
            )
        return view

    def _ttft(self, model: str, second: int) -> list[float | None]:
        """TTFT p50/p99 over the last seconds; recomputed once a second, not every redraw."""
        cached = self._ttft_cache.get(model)
        if cached is None or cached[0] != second:
            values = self._recorder.series.detail.recent_ttft_ms(model, second, TTFT_WINDOW_S)
            cached = self._ttft_cache[model] = (second, values)
        return cached[1]

    def _achieved_rps(self, sent: int) -> float:
        """Sends per second over the last few seconds, from the runner's own counter."""
        now = time.monotonic()
        self._sends.append((now, sent))
        while len(self._sends) > 1 and now - self._sends[0][0] > RATE_WINDOW_S:
            self._sends.popleft()
        first_time, first_sent = self._sends[0]
        span = now - first_time
        return (sent - first_sent) / span if span > 0 else 0.0


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"
