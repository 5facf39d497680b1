"""A model's serving capacity: a fixed number of slots, then a FIFO queue.

A request holds a slot from admission to its last byte. With N slots and a service time S,
throughput cannot pass N / S; beyond it requests wait, and the wait adds to their time to
first token, which is the knee a load sweep looks for. A queue limit turns the excess into
errors instead (503 ServiceUnavailableException, as Bedrock answers when a model is out of
capacity).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

from loadgen.emulator.profiles import Capacity


class Slots:
    def __init__(self, capacity: Capacity) -> None:
        self.slots = capacity.slots
        self.queue_limit = capacity.queue_limit
        self.busy = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._ahead: set[asyncio.Future[None]] = set()  # priority waiters, at the front
        self.admitted = 0
        self.rejected = 0
        self.max_queued = 0
        self.wait_ns_total = 0
        self.wait_ns_max = 0

    @property
    def queued(self) -> int:
        return len(self._waiters)

    async def acquire(self) -> bool:
        """True once a slot is held (after waiting in turn); False when the queue is full."""
        return await self.acquire_tiered(self.queue_limit)

    async def acquire_tiered(self, queue_limit: int | None, *, ahead: bool = False) -> bool:
        """acquire() with this request's own queue limit (a service tier's, tiers.py); `ahead`
        (priority) waits in front of every waiter that is not itself ahead."""
        if self.slots is None or (self.busy < self.slots and not self._waiters):
            self.busy += 1
            self.admitted += 1
            return True
        if queue_limit is not None and len(self._waiters) >= queue_limit:
            self.rejected += 1
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if ahead:
            self._waiters.insert(sum(1 for w in self._waiters if w in self._ahead), waiter)
            self._ahead.add(waiter)
        else:
            self._waiters.append(waiter)
        self.max_queued = max(self.max_queued, len(self._waiters))
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.cancelled():
                with contextlib.suppress(ValueError):
                    self._waiters.remove(waiter)
            else:  # handed a slot and cancelled in the same turn: pass it on
                self.release()
            raise
        finally:
            self._ahead.discard(waiter)
        self.admitted += 1
        return True

    def release(self) -> None:
        """Hand the slot to the longest waiter, or free it."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot changes hands: busy stays the same
                return
        self.busy -= 1

    def record_wait(self, wait_ns: int) -> None:
        self.wait_ns_total += wait_ns
        self.wait_ns_max = max(self.wait_ns_max, wait_ns)

    def stats(self) -> dict[str, Any]:
        return {
            "slots": self.slots,
            "queue_limit": self.queue_limit,
            "busy": self.busy,
            "queued": self.queued,
            "max_queued": self.max_queued,
            "admitted": self.admitted,
            "rejected": self.rejected,
            "queue_wait_ms": {
                "mean": round(self.wait_ns_total / self.admitted / 1e6, 3)
                if self.admitted
                else None,
                "max": round(self.wait_ns_max / 1e6, 3),
            },
        }
