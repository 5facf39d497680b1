"""The runner's notion of time, injected so that tests of timing logic run in virtual time."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from loadgen.core.pacing import Pacer
from loadgen.core.timerfd import TimerFd

# Below this, asyncio.sleep(x) would round to a whole timer tick: yield instead.
EARLY_WAKE_SPIN_NS = 200_000


class Clock(Protocol):
    def now_ns(self) -> int: ...

    async def sleep_until(self, instant_ns: int) -> None: ...


def _timerfd_available() -> bool:
    timer = TimerFd.create()
    if timer is None:
        return False
    timer.close()
    return True


class MonotonicClock:
    """perf_counter_ns, the one clock every instant of a run is taken from.

    Why a pacer: asyncio's and uvloop's timers fire on a millisecond grid, so a request woken
    by one left 0.3-1.2 ms after its instant (measured with benchmarks/replay_arrivals.py): a
    schedule lag, and an arrival error against a replayed log, made by the clock itself. On
    Linux the wake-ups go through one timerfd the loop watches like a socket (loadgen/core/
    pacing.py, the emulator's own pacer): woken at the instant, with no spinning and no
    blocking of the loop. Elsewhere, asyncio's timer and a yield until the instant.
    """

    def __init__(self, *, precise: bool | None = None) -> None:
        self._precise = _timerfd_available() if precise is None else precise
        self._pacer: Pacer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def now_ns(self) -> int:
        return time.perf_counter_ns()

    async def sleep_until(self, instant_ns: int) -> None:
        if self._precise and instant_ns > time.perf_counter_ns():
            await self._pacer_of_this_loop().sleep_until(instant_ns)
            return
        # Even an instant already past yields once, so a late schedule cannot starve the
        # tasks that are reading responses.
        await asyncio.sleep(max(instant_ns - time.perf_counter_ns(), 0) / 1e9)
        # uvloop's timers have millisecond resolution and can fire up to ~1 ms early: a request
        # must never leave before its instant, so yield (letting other tasks run) until it has.
        while time.perf_counter_ns() < instant_ns:
            remaining = instant_ns - time.perf_counter_ns()
            await asyncio.sleep(remaining / 1e9 if remaining > EARLY_WAKE_SPIN_NS else 0)

    def _pacer_of_this_loop(self) -> Pacer:
        loop = asyncio.get_running_loop()
        if self._pacer is None or self._loop is not loop:
            # A pacer belongs to one loop (its timerfd is watched by it): a clock reused in a
            # new loop gets a new one.
            self._pacer = Pacer(use_timerfd=True)
            self._loop = loop
        return self._pacer
