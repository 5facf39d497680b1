"""The one error tree of loadgen.

    LoadgenError                 base: the CLI prints its message, never a traceback
    ├── ConfigError              bad scenario or arguments; carries every problem found (exit 2)
    ├── PreflightError           a check before load failed; nothing was sent (exit 2)
    ├── RunAborted               a guard stopped the run; its report is written (exit 3)
    └── OutputError              an output could not be written: disk full, folder gone (exit 6)

Errors of single requests are not exceptions here: they are data, recorded in a `Sample`
with an `ErrorClass`.
"""

from __future__ import annotations

from collections.abc import Sequence


class LoadgenError(Exception):
    """Base of every error loadgen raises on purpose."""

    exit_code = 1


class ConfigError(LoadgenError):
    """A scenario file or command-line value is wrong. Lists every problem at once."""

    exit_code = 2

    def __init__(self, problems: Sequence[str], source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        if len(self.problems) == 1:
            message = f"{head}{self.problems[0]}"
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{head}{len(self.problems)} problems:\n{lines}"
        super().__init__(message)


class PreflightError(LoadgenError):
    """Something the run needs is missing (credentials, endpoint, output folder)."""

    exit_code = 2


class RunAborted(LoadgenError):
    """A guard (budget, circuit breaker) stopped the run early."""

    exit_code = 3


class OutputError(LoadgenError):
    """A file the run writes could not be written (disk full, read-only, the folder removed,
    a closed pipe). What could be written is kept; the message says what was lost."""

    exit_code = 6
