"""Outputs with a tiny lifecycle: start, add a Sample without blocking, stop."""

from __future__ import annotations

from typing import Protocol

from loadgen.sample import Sample


class Sink(Protocol):
    def start(self) -> None: ...

    def add(self, sample: Sample) -> None: ...

    def stop(self) -> None: ...
