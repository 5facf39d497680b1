"""Outputs with a tiny lifecycle: start, add a Sample without blocking, stop."""

from __future__ import annotations

from typing import Protocol

from loadgen.core.sample import Sample


class Sink(Protocol):
    """A sink whose I/O is cheap enough to do inline (a line-buffered file)."""

    def start(self) -> None: ...

    def add(self, sample: Sample) -> None: ...

    def stop(self) -> None: ...


class AsyncSink(Protocol):
    """A sink that does network I/O (CloudWatch): `add` only folds the sample in memory, and
    the sink publishes from a task of its own, so the runner is never slowed."""

    async def start(self) -> None: ...

    def add(self, sample: Sample) -> None: ...

    async def stop(self) -> None: ...
