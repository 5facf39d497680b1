"""samples.jsonl: one line per request, written as each request finishes (read back with
loadgen.core.sample.read_samples)."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from loadgen.core import fast_json
from loadgen.core.sample import Sample


class JsonlSink:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None
        self.lines = 0

    def start(self) -> None:
        self._handle = self.path.open("wb")

    def add(self, sample: Sample) -> None:
        assert self._handle is not None, "start() the sink first"
        # Flushed per line: each sample reaches the file as one whole line, so a run killed
        # at any instant leaves a file whose every line parses.
        self._handle.write(fast_json.dumps_line(sample.to_json_dict()))
        self._handle.flush()
        self.lines += 1

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None
