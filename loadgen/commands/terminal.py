"""How every command meets the terminal: one clear line and an exit code for an error a user
can cause, a traceback only for a bug, SIGTERM as Ctrl-C, tables sized for logs."""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

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


def terminal_console() -> Console:
    # Logs and CI capture are not terminals: give the table room rather than wrap it.
    return Console(width=None if sys.stdout.isatty() else 160)


def terminate_as_interrupt() -> None:
    """Until a run installs its own handlers (and after it removes them), SIGTERM unwinds like
    Ctrl-C, so the emulator process and open files are cleaned up rather than orphaned."""
    signal.signal(signal.SIGTERM, _raise_interrupt)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
