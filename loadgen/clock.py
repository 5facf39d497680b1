"""The runner's notion of time, injected so that tests of timing logic run in virtual time."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def now_ns(self) -> int: ...

    async def sleep_until(self, instant_ns: int) -> None: ...


class MonotonicClock:
    """perf_counter_ns, the one clock every instant of a run is taken from."""

    def now_ns(self) -> int:
        return time.perf_counter_ns()

    async def sleep_until(self, instant_ns: int) -> None:
        delay = instant_ns - time.perf_counter_ns()
        # Even an instant already past yields once, so a late schedule cannot starve the
        # tasks that are reading responses.
        await asyncio.sleep(max(delay, 0) / 1e9)
