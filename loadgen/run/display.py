"""What the terminal shows of a run: the console, --quiet, and how progress is shown: a live
view redrawn in place on a terminal, plain lines every few seconds elsewhere.

The part of the caller's options that the live view, the summary and the report writers read;
they take this, not the whole RunOptions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from rich.console import Console

FORCE_ENV = "LOADGEN_PROGRESS"  # "1": show it even when stdout is not a terminal
# Seconds between progress lines when stdout is not a terminal (CI's log): 10 unless set.
LINES_EVERY_ENV = "LOADGEN_PROGRESS_EVERY"
LINES_EVERY_S = 10.0


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

    def progress_lines_wanted(self) -> bool:
        """Not a terminal, no live view, not --quiet: a plain progress line every few seconds,
        so that a CI log is not silent for the whole run."""
        return self.progress is None and not self.quiet and not self.progress_wanted()

    def lines_every_s(self) -> float:
        """LOADGEN_PROGRESS_EVERY seconds (a positive number), else LINES_EVERY_S."""
        try:
            every = float(os.environ.get(LINES_EVERY_ENV, LINES_EVERY_S))
        except ValueError:
            return LINES_EVERY_S
        return every if every > 0 else LINES_EVERY_S
