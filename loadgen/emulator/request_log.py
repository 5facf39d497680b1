"""What the emulator injected, one JSON line per request, so that any client's measurements
can be checked against it: the planned TTFT and gaps, tokens, the fault, the queue wait."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Any


class RequestLog:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._file: IO[str] | None = self.path.open("a", encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        if self._file is not None:
            # One line per request, flushed at once: the log is complete when a client reads it
            # after its run, even while the emulator keeps serving.
            self._file.write(json.dumps(record, separators=(",", ":")) + "\n")
            self._file.flush()

    def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            file.close()
