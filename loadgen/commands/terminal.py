"""How every command meets the terminal: one clear line and an exit code for an error a user
can cause, a traceback only for a bug, SIGTERM as Ctrl-C, tables sized for the terminal and
plain text for logs."""

from __future__ import annotations

import io
import os
import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any, TextIO, TypeVar, cast

import click
from rich.console import Console

from loadgen.core.errors import LoadgenError
from loadgen.core.redact import redact_text

F = TypeVar("F", bound=Callable[..., Any])
EXIT_INTERNAL = 1


def friendly_errors(function: F) -> F:
    """Errors a user can cause print one clear message and exit with their code; only a bug
    prints a traceback (exit 1)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except LoadgenError as exc:
            click.echo(redact_text(f"error: {exc}"), err=True)
            sys.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            sys.exit(130)
        except Exception:
            click.echo(redact_text(traceback.format_exc()).rstrip(), err=True)
            click.echo("error: internal error in loadgen (a bug: please report it)", err=True)
            sys.exit(EXIT_INTERNAL)

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper  # type: ignore[return-value]


# A width no table reaches: tables then take their natural width (loadgen/report/fit.py).
UNBOUNDED_WIDTH = 10_000


def terminal_console(wide: bool = False) -> Console:
    """The console a command prints on. A terminal: its own width, which the summary's tables
    fit (`wide`: every column in one table, full model ids). Not a terminal (a file, a pipe,
    CI's log): plain text, each table at its natural width (or $COLUMNS when set), no line
    padded with trailing spaces."""
    if sys.stdout.isatty():
        return Console(width=UNBOUNDED_WIDTH if wide else None)
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) > 0 and not wide else None
    plain = cast(TextIO, TrimmedLines(sys.stdout))  # a TextIOBase: the text half of TextIO
    return Console(file=plain, width=width or UNBOUNDED_WIDTH)


class TrimmedLines(io.TextIOBase):
    """A text stream that writes each line without its trailing spaces (rich pads a table's
    title and cells to the table's width; a log or a diff should not carry them)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream
        self._pending = ""  # trailing spaces of the line being written, held until it goes on

    @property
    def encoding(self) -> str:  # type: ignore[override]  # typeshed: an attribute; io: read-only
        return getattr(self._stream, "encoding", None) or "utf-8"

    def write(self, text: str) -> int:
        *lines, last = (self._pending + text).split("\n")
        kept = last.rstrip(" ")
        self._pending = last[len(kept) :]
        self._stream.write("".join(f"{line.rstrip(' ')}\n" for line in lines) + kept)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self._stream.fileno()


def terminate_as_interrupt() -> None:
    """Until a run installs its own handlers (and after it removes them), SIGTERM unwinds like
    Ctrl-C, so the emulator process and open files are cleaned up rather than orphaned."""
    signal.signal(signal.SIGTERM, _raise_interrupt)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
