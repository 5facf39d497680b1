"""stdout whose reader is gone (`loadgen run ... | head`, `--emf - | head`)."""

from __future__ import annotations

import contextlib
import os
import sys


def silence_stdout() -> None:
    """Point stdout at /dev/null once its reader is gone: later prints, and Python's own flush
    at exit, would otherwise fail on the closed pipe again (and print a traceback)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
