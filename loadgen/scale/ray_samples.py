"""A Ray actor's samples.jsonl, carried to the driver while the run goes, so that a node lost
mid-run loses only its last moments.

The actor's run writes samples.jsonl in a scratch folder on its own node, one whole line per
request (loadgen/sinks/jsonl.py). Every FLUSH_S a thread in the actor reads the whole lines
appended since the last flush (`NewLines`) and posts them, with their byte offset, to the
barrier actor on the driver's node, waiting for the barrier to take them before it moves on;
the driver collects them from the barrier and appends them to `workers/<k>/samples.jsonl`
(`ShareSamples`). When the run ends, the actor sends the lines not yet flushed with its
answer. Through Ray only: the nodes need not share a filesystem.

Offsets make every chunk idempotent: a post that timed out may still have arrived, and is
sent again from the same offset; the driver keeps each byte once, in order.
"""

from __future__ import annotations

from pathlib import Path

# How often an actor sends its new samples (and asks whether the driver wants it to stop).
# A node lost mid-run loses the requests that ended in the last FLUSH_S, plus the time one
# post takes, besides those in flight.
FLUSH_S = 0.25
MAX_CHUNK_BYTES = 8 * 1024 * 1024  # one post's cap: ~8,000 requests of 50 deltas


class NewLines:
    """The actor's side: whole lines appended to a file since the last acknowledged chunk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sent = 0  # bytes the driver's side has taken
        self.announced = False  # an empty first chunk tells the driver the file exists

    def next_chunk(self) -> tuple[int, bytes] | None:
        """(offset, whole lines from it), or None: nothing new (or no file yet)."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.sent)
                data = handle.read(MAX_CHUNK_BYTES)
        except FileNotFoundError:
            return None
        # A line is written in one write call, but a read can land in the middle of one.
        data = data[: data.rfind(b"\n") + 1]
        if not data and self.announced:
            return None
        return self.sent, data

    def acknowledge(self, offset: int, data: bytes) -> None:
        self.announced = True
        self.sent = max(self.sent, offset + len(data))

    def rest(self) -> tuple[int, bytes] | None:
        """Everything not yet acknowledged, for the actor's answer once its run has ended
        (every line whole by then); None when the run never opened the file."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.sent)
                data = handle.read()
        except FileNotFoundError:
            return None
        return self.sent, data[: data.rfind(b"\n") + 1]


class ShareSamples:
    """The driver's side: one share's samples.jsonl, from chunks that may repeat or come out
    of order; every byte written once, in order."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0  # bytes written
        self.pending: dict[int, bytes] = {}  # chunks past a gap, by offset

    def add(self, offset: int, data: bytes) -> None:
        self.pending[offset] = max(data, self.pending.get(offset, b""), key=len)
        with self.path.open("ab") as out:
            for start in sorted(self.pending):
                if start > self.size:
                    break  # a gap: an earlier chunk is still to come
                chunk = self.pending.pop(start)
                if start + len(chunk) > self.size:
                    out.write(chunk[self.size - start :])
                    self.size = start + len(chunk)
