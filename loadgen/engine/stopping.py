"""How a run ends early: an interrupt (SIGINT/SIGTERM) or a guard (circuit breaker, budget).

The first stop request cancels the scheduling task, so no more requests leave; requests in
flight then get a grace period. A second signal cuts the grace period short. Either way the
run goes on to write its report.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator
from typing import Final

from loadgen.core.report_parts import StopStatus

INTERRUPTED: Final = "interrupted"
ABORTED: Final = "aborted"


class RunStop:
    def __init__(self) -> None:
        self.status: StopStatus | None = None  # None while the run goes on
        self.reason: str | None = None
        self.hard = False  # a second signal: cancel what is in flight now
        self.current: asyncio.Task[None] | None = None  # what a stop request cancels

    def request(self, status: StopStatus, reason: str, *, from_signal: bool = False) -> None:
        if self.status is None:
            self.status, self.reason = status, reason
        elif from_signal:
            self.hard = True
        else:
            return  # a guard tripping again changes nothing
        if self.current is not None and not self.current.done():
            self.current.cancel()

    def _on_signal(self, reason: str) -> None:
        self.request(INTERRUPTED, reason, from_signal=True)

    @contextlib.contextmanager
    def on_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        installed = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            name = signal.Signals(signum).name
            try:
                loop.add_signal_handler(signum, self._on_signal, f"stopped by {name}")
                installed.append(signum)
            except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
                pass
        try:
            yield
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)
