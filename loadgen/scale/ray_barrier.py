"""The barrier actor of a `--ray` run: the driver's mailbox on its own node.

Actors may be on other machines, which the driver can neither signal nor read files from.
Everything between them goes through this one small actor, pinned to the driver's node
(loadgen/scale/ray_placement.py) so that it outlives any worker node:

- the start: it holds every share until all are ready, then hands them one wall-clock
  instant (each actor converts it to its own perf_counter clock);
- the stops: the driver's Ctrl-C (or a share that failed) is counted here; each actor polls
  the count and signals itself;
- live progress snapshots, and the samples each actor sends as it goes
  (loadgen/scale/ray_samples.py), kept until the driver takes them.
"""

from __future__ import annotations

import asyncio
import time

from loadgen.run.progress import ProgressSnapshot
from loadgen.scale.workers import START_LEAD_NS


class StartBarrier:
    """Holds every share until all are ready, then hands them one wall-clock start instant;
    carries the driver's stops to the actors and their progress and samples to the driver."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.ready = 0
        self.start_epoch_ns: int | None = None
        self.released = asyncio.Event()
        self.stop_requests = 0
        self.snapshots: dict[int, list[ProgressSnapshot]] = {}
        # (number, share, offset, whole lines), numbered in the order they came
        self.chunks: list[tuple[int, int, int, bytes]] = []
        self.posted = 0

    async def ready_and_wait(self) -> int | None:
        self.ready += 1
        if self.ready == self.count and not self.released.is_set():
            self.start_epoch_ns = time.time_ns() + START_LEAD_NS
            self.released.set()
        await self.released.wait()
        return self.start_epoch_ns  # None: called off

    def call_off(self) -> bool:
        """Release the waiters without a start (a share failed to set up); False if too late."""
        if self.released.is_set():
            return False
        self.released.set()
        return True

    def request_stop(self) -> bool:
        """One Ctrl-C for every actor: the first lets requests finish, a second stops at once.

        Before the start it calls the start off (True, as call_off).
        """
        self.stop_requests += 1
        return self.call_off()

    def stops(self) -> int:
        return self.stop_requests

    def start_instant(self) -> int | None:
        """The common start in epoch nanoseconds; None before it (or called off)."""
        return self.start_epoch_ns

    def post_progress(self, index: int, snapshot: ProgressSnapshot) -> None:
        """An actor's live progress snapshot, kept until the driver takes it."""
        self.snapshots.setdefault(index, []).append(snapshot)

    def take_progress(self) -> dict[int, list[ProgressSnapshot]]:
        """Every snapshot posted since the last call, in order (each carries only what
        changed in the TTFT buckets, so none may be skipped)."""
        taken, self.snapshots = self.snapshots, {}
        return taken

    def post_samples(self, index: int, offset: int, data: bytes) -> int:
        """Share `index`'s samples.jsonl lines from byte `offset`, kept until the driver takes
        them. Returns the stop count, so that one round trip also polls for stops."""
        self.posted += 1
        self.chunks.append((self.posted, index, offset, data))
        return self.stop_requests

    def take_samples(self, written: int) -> list[tuple[int, int, int, bytes]]:
        """The chunks after number `written`, the last the driver has written: (number,
        share, offset, lines). Those up to it are dropped; the rest are kept until a later
        call says they were written, so that an answer lost on its way (a call timed out)
        loses nothing."""
        self.chunks = [chunk for chunk in self.chunks if chunk[0] > written]
        return list(self.chunks)
