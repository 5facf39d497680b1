"""Resume coroutines at absolute instants, to a fraction of a millisecond.

asyncio's timers fire 0.7-1.3 ms late (epoll's timeout is whole milliseconds, rounded up) and
uvloop's have 1 ms resolution: too coarse for an endpoint the harness is measured against. One
heap holds every pending wake-up, and one timer, always armed for the earliest, wakes them:

- on Linux, a timerfd the loop watches like a socket (see timerfd.py): it wakes the loop at
  the instant and never blocks it, so requests arriving meanwhile are read at once;
- elsewhere, a scheduler task sleeps with asyncio until `spin_ns` before the earliest instant,
  then blocks the loop with time.sleep for the rest (sub-millisecond sleeps are precise).
  Measured here, that blocking delays reading new requests by about a millisecond, which is
  why it is only the fallback.

Every wake-up's lateness is recorded (resume minus due), so an emulator starved of CPU shows
in its own statistics rather than silently in the harness's figures.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time

from loadgen.core.lateness import LatenessStats
from loadgen.core.timerfd import TimerFd

SPIN_NS = 1_500_000


class Pacer:
    """`await pacer.sleep_until(due_ns)` resumes at due_ns on the perf_counter_ns clock."""

    def __init__(self, spin_ns: int = SPIN_NS, use_timerfd: bool = True) -> None:
        self.spin_ns = spin_ns
        self.use_timerfd = use_timerfd
        self.lateness = LatenessStats()
        self._heap: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()  # ties resolve in push order; futures never compare
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: TimerFd | None = None
        self._armed_for: int | None = None  # the instant the timerfd is set to
        self._task: asyncio.Task[None] | None = None  # the fallback's scheduler
        self._wakeup: asyncio.Future[None] | None = None
        self._mode: str | None = None

    @property
    def mode(self) -> str | None:
        """How it wakes: "timerfd" or "sleep" (the fallback); None before it has started."""
        return self._mode

    def start(self) -> None:
        if self._loop is not None:
            return
        self._loop = loop = asyncio.get_running_loop()
        self._timer = TimerFd.create() if self.use_timerfd else None
        if self._timer is not None:
            try:
                loop.add_reader(self._timer.fd, self._on_timer)
            except NotImplementedError:  # a loop without add_reader
                self._timer.close()
                self._timer = None
        if self._timer is None:
            self._task = loop.create_task(self._schedule(), name="pacer")
        self._mode = "sleep" if self._timer is None else "timerfd"

    async def stop(self) -> None:
        loop, self._loop = self._loop, None
        timer, self._timer = self._timer, None
        if loop is not None and timer is not None:
            loop.remove_reader(timer.fd)
            timer.close()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        for _, _, future in self._heap:
            future.cancel()
        self._heap.clear()
        self._armed_for = None

    async def sleep_until(self, due_ns: int) -> int:
        """Resume at due_ns (at once if it is past) and return how late, in ns."""
        self.start()
        assert self._loop is not None
        if due_ns > time.perf_counter_ns():
            future = self._loop.create_future()
            heapq.heappush(self._heap, (due_ns, next(self._seq), future))
            if self._heap[0][2] is future:
                self._earlier(due_ns)
            await future
        late = time.perf_counter_ns() - due_ns
        self.lateness.record_ns(late)
        return late

    def _earlier(self, due_ns: int) -> None:
        """A new earliest instant: re-arm the timer, or let the scheduler re-plan."""
        if self._timer is not None:
            if self._armed_for is None or due_ns < self._armed_for:
                self._timer.arm(due_ns - time.perf_counter_ns())
                self._armed_for = due_ns
        elif self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def _wake_due(self) -> None:
        now = time.perf_counter_ns()
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, future = heapq.heappop(heap)
            if not future.done():  # its waiter may have been cancelled
                future.set_result(None)

    def _on_timer(self) -> None:
        assert self._timer is not None
        self._timer.clear()
        self._armed_for = None
        self._wake_due()
        if self._heap:
            self._earlier(self._heap[0][0])

    async def _schedule(self) -> None:
        """The fallback: asyncio for the coarse part of each wait, time.sleep for the rest."""
        loop = asyncio.get_running_loop()
        heap = self._heap
        while True:
            if not heap:
                await self._park(None)
                continue
            ahead = heap[0][0] - time.perf_counter_ns()
            if ahead > self.spin_ns:
                # An asyncio timer that may fire up to ~1.3 ms late: still before the instant.
                await self._park(loop.call_later((ahead - self.spin_ns) / 1e9, self._poke))
                continue
            if ahead > 0:
                time.sleep(ahead / 1e9)  # blocks the loop, for at most spin_ns
            self._wake_due()
            await asyncio.sleep(0)  # let the woken writers and ready I/O run first

    async def _park(self, timer: asyncio.TimerHandle | None) -> None:
        self._wakeup = asyncio.get_running_loop().create_future()
        try:
            await self._wakeup
        finally:
            self._wakeup = None
            if timer is not None:
                timer.cancel()

    def _poke(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)
