"""How a run ends early, whatever the cause and whatever it was doing at the time.

One RunStop lives for the whole run, from setup to the last file written, so that every cause
(SIGINT, a second SIGINT, SIGTERM, SIGHUP, a guard, a failed write, a bug) in every phase
(setup, preflight, load, drain, scoring, publishing, writing) ends the run the same way: the
step in progress is cancelled (`current`), nothing more is sent, what was measured is kept,
and the report says in which phase the run stopped and why.

A first stop request during load cancels the scheduling task, and requests in flight get a
grace period; a second signal cuts it short (`hard`). Outside load, a stop cancels the step in
progress (a preflight call, scoring, rendering) and the run goes straight to its report.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Iterator
from typing import Any, Final, TypeVar

from loadgen.core.report_parts import StopPhase, StopStatus

INTERRUPTED: Final = "interrupted"
ABORTED: Final = "aborted"
FAILED: Final = "failed"  # an output could not be written

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

T = TypeVar("T")


class RunStop:
    def __init__(self) -> None:
        self.status: StopStatus | None = None  # None while the run goes on
        self.reason: str | None = None
        self.phase: StopPhase = "setup"  # what the run is doing now
        self.stopped_in: StopPhase | None = None  # the phase the first stop request came in
        self.hard = False  # a second signal: cancel what is in flight now
        self.current: asyncio.Future[Any] | None = None  # what a stop request cancels

    def request(self, status: StopStatus, reason: str, *, from_signal: bool = False) -> None:
        if self.status is None:
            self.status, self.reason, self.stopped_in = status, reason, self.phase
        elif from_signal:
            self.hard = True
        else:
            return  # a guard tripping again changes nothing
        if self.current is not None and not self.current.done():
            self.current.cancel()

    async def until_stopped(self, step: Awaitable[T], *, even_if_stopped: bool = False) -> T | None:
        """Await one step of the run; a stop request cancels it, and then None is returned.

        A stop that came before the step starts skips it, unless `even_if_stopped` (a step
        every run needs, such as publishing the last interval): then only a later signal
        cancels it. A cancellation that is not a stop request (the caller's own task
        cancelled) propagates as usual.
        """
        if self.status is not None and not even_if_stopped:
            if asyncio.iscoroutine(step):
                step.close()
            return None
        task: asyncio.Future[T] = asyncio.ensure_future(step)
        self.current = task
        try:
            return await task
        except asyncio.CancelledError:
            if self.status is None or not task.cancelled():
                raise
            return None
        finally:
            self.current = None

    def _on_signal(self, reason: str) -> None:
        self.request(INTERRUPTED, reason, from_signal=True)

    @contextlib.contextmanager
    def on_signals(self) -> Iterator[None]:
        """SIGINT, SIGTERM and SIGHUP become stop requests while the block runs."""
        loop = asyncio.get_running_loop()
        installed = []
        for signum in STOP_SIGNALS:
            name = signal.Signals(signum).name
            try:
                loop.add_signal_handler(signum, self._on_signal, f"stopped by {name}")
                installed.append(signum)
            except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
                pass
        try:
            yield
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)
