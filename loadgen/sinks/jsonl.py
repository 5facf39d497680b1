"""samples.jsonl: one line per request, written as each request finishes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from loadgen.sample import Sample


class JsonlSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None
        self.lines = 0

    def start(self) -> None:
        # Line buffering: each sample reaches the file as one whole line, so a run killed at
        # any instant leaves a file whose every line parses.
        self._handle = self.path.open("w", encoding="utf-8", buffering=1)

    def add(self, sample: Sample) -> None:
        assert self._handle is not None, "start() the sink first"
        self._handle.write(json.dumps(sample.to_json_dict(), separators=(",", ":")) + "\n")
        self.lines += 1

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def read_samples(path: Path) -> Iterator[Sample]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield Sample.from_json_dict(json.loads(line))
