"""`--summary FORMAT FILE` and `--junit FILE`: a run's figures for the tools around it (a CI
job, a spreadsheet), on `loadgen run` and on `loadgen report` for a saved run. What they hold:
loadgen/report/summary.py and loadgen/report/junit.py (docs/summary.md)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from loadgen.commands.options import stacked

if TYPE_CHECKING:  # imported when a command runs (loadgen/commands/__init__.py)
    from loadgen.report.schema import Report

SUMMARY_FORMATS = ("json", "csv", "md")  # loadgen.report.summary.SUMMARY_FORMATS

tool_output_options = stacked(
    click.option(
        "--summary",
        type=(click.Choice(SUMMARY_FORMATS), click.Path(path_type=Path, dir_okay=False)),
        default=None,
        metavar="[json|csv|md] FILE",
        help="Also write a compact per-model summary to FILE (docs/summary.md).",
    ),
    click.option(
        "--junit",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Also write thresholds and requirements as JUnit XML test cases to FILE.",
    ),
)


def write_tool_outputs(report: Report, flags: dict[str, Any]) -> None:
    """The files --summary and --junit asked for; one that cannot be written is a clear error
    (exit 6), once report.json is safe."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    from loadgen.report.junit import write_junit
    from loadgen.report.summary import write_summary

    if flags.get("summary") is not None:
        fmt, path = flags["summary"]
        _write(path, lambda: write_summary(report, fmt, path))
    if flags.get("junit") is not None:
        path = flags["junit"]
        _write(path, lambda: write_junit(report, path))


def _write(path: Path, write: Callable[[], object]) -> None:
    from loadgen.core.errors import OutputError

    try:
        write()
    except OSError as exc:
        raise OutputError(
            f"cannot write {path}: {exc.strerror or exc}; choose a path in a folder you can write"
        ) from None
