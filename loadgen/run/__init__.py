"""One run, start to finish: the library's entry (`loadgen.run.run`, `run_async`).

The parts, in the order a run meets them: setup (checks, backend), emulated (--emulate),
measure (phases sent and recorded), sinks (where samples go), finish (report.json, exit code).
The public names are these, re-exported from those modules and pinned by a test.
"""

from loadgen.run.api import run, run_async
from loadgen.run.finish import (
    EXIT_ABORTED,
    EXIT_CLOUDWATCH,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_THRESHOLDS,
    RunResult,
)
from loadgen.run.options import RunOptions

__all__ = [
    "EXIT_ABORTED",
    "EXIT_CLOUDWATCH",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_THRESHOLDS",
    "RunOptions",
    "RunResult",
    "run",
    "run_async",
]
