"""The runner's notion of time, injected so that tests of timing logic run in virtual time."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

# Below this, asyncio.sleep(x) would round to a whole timer tick: yield instead.
EARLY_WAKE_SPIN_NS = 200_000


class Clock(Protocol):
    def now_ns(self) -> int: ...

    async def sleep_until(self, instant_ns: int) -> None: ...


class MonotonicClock:
    """perf_counter_ns, the one clock every instant of a run is taken from."""

    def now_ns(self) -> int:
        return time.perf_counter_ns()

    async def sleep_until(self, instant_ns: int) -> None:
        # Even an instant already past yields once, so a late schedule cannot starve the
        # tasks that are reading responses.
        await asyncio.sleep(max(instant_ns - time.perf_counter_ns(), 0) / 1e9)
        # uvloop's timers have millisecond resolution and can fire up to ~1 ms early: a request
        # must never leave before its instant, so yield (letting other tasks run) until it has.
        while time.perf_counter_ns() < instant_ns:
            remaining = instant_ns - time.perf_counter_ns()
            await asyncio.sleep(remaining / 1e9 if remaining > EARLY_WAKE_SPIN_NS else 0)
