"""Files that a reader never sees half-written: write aside, flush to disk, rename over.

A run interrupted at any instant leaves either the previous file or the new one whole, never
a truncated report (rename is atomic on POSIX within one filesystem).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def replaced_atomically(path: Path) -> Iterator[IO[bytes]]:
    """A binary handle on `<path>.tmp`; on a clean exit it is synced and renamed to `path`."""
    temporary = path.with_suffix(path.suffix + ".tmp")
    with temporary.open("wb") as handle:
        yield handle
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)


def write_text_atomically(path: Path, text: str) -> None:
    with replaced_atomically(path) as handle:
        handle.write(text.encode("utf-8"))
