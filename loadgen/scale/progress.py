"""The parent's live view of a `--workers N` or `--ray` run.

Each worker sends a ProgressSnapshot twice a second (loadgen/run/progress.py's
SnapshotPublisher: over its pipe, or to the Ray barrier actor); the parent feeds them to one
ProgressBoard, which sums them and draws the same view as a single-process run, plus a line
with each worker's CPU. The parent has no event loop: its wait loop calls `tick`, which
redraws at most twice a second.
"""

from __future__ import annotations

import contextlib
import time

from loadgen.config.scenario import Scenario
from loadgen.run.display import Display
from loadgen.run.progress import (
    REFRESH_S,
    ProgressBoard,
    ProgressOutput,
    ProgressPlan,
    ProgressSnapshot,
    progress_output,
)


class WorkersProgress:
    def __init__(self, output: ProgressOutput, scenario: Scenario, workers: int) -> None:
        # One phase: runs with several (sequential models, compare_streaming) are not split.
        self._board = ProgressBoard(ProgressPlan.of(scenario, phases=1), workers=workers)
        self._output = output  # redrawn on a terminal, a line every few seconds otherwise
        self._drawn_at = 0.0
        self._fresh = False  # a snapshot came since the last redraw

    @classmethod
    def start_if_wanted(
        cls, display: Display, scenario: Scenario, workers: int
    ) -> WorkersProgress | None:
        """The same rules as a single-process run (progress_output): live on a terminal,
        plain lines where nothing can be redrawn (CI), nothing with --quiet."""
        output = progress_output(display)
        if output is None:
            return None
        progress = cls(output, scenario, workers)
        output.start()
        return progress

    def update(self, worker: int, snapshot: ProgressSnapshot) -> None:
        self._board.update(worker, snapshot)
        self._fresh = True

    def tick(self) -> None:
        """Redraw if there is news and the last redraw is REFRESH_S old."""
        now = time.monotonic()
        if self._fresh and now - self._drawn_at >= REFRESH_S:
            self._draw()
            self._drawn_at = now

    def stop(self) -> None:
        """The last redraw (every worker's final snapshot in), and the view left on screen."""
        self._fresh = False
        with contextlib.suppress(Exception):  # a display problem must never end the run
            self._output.close(self._board)

    def _draw(self) -> None:
        self._fresh = False
        with contextlib.suppress(Exception):  # a display problem must never end the run
            self._output.show(self._board)
