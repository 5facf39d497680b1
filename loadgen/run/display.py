"""What the terminal shows of a run: the console, --quiet, and whether live progress is drawn.

The part of the caller's options that the live view, the summary and the report writers read;
they take this, not the whole RunOptions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from rich.console import Console

FORCE_ENV = "LOADGEN_PROGRESS"  # "1": show it even when stdout is not a terminal


@dataclass(frozen=True)
class Display:
    console: Console
    quiet: bool = False
    progress: bool | None = None  # live progress; None: on a terminal unless quiet

    def progress_wanted(self) -> bool:
        """Asked for, or on a terminal and not --quiet (LOADGEN_PROGRESS=1: as on a terminal)."""
        if self.progress is not None:
            return self.progress
        forced = os.environ.get(FORCE_ENV) == "1"
        return not self.quiet and (self.console.is_terminal or forced)
