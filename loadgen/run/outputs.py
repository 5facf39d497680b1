"""What a finished run shows besides report.json: stats.csv and report.html beside it, and the
console summary. The same for a single process and for a run merged from workers, and for a
run that was stopped (its report.json is written first, whatever stopped it)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from loadgen.core.atomic_file import write_text_atomically
from loadgen.core.closed_pipe import silence_stdout
from loadgen.engine.stopping import RunStop
from loadgen.report.console import print_summary
from loadgen.report.schema import Report
from loadgen.report.summary import STATS_FILE, summary_csv
from loadgen.run.display import Display


def finish_outputs(report: Report, out_dir: Path, html: bool, display: Display) -> None:
    """Write report.html when asked (a failure is printed, never raised: report.json is
    already whole), then print the summary unless quiet. Blocks."""
    write_stats(report, out_dir, display)
    html_path = _write_page(out_dir, _render(report), display) if html else None
    show_summary(report, out_dir, html_path, display)


async def finish_outputs_stoppable(
    report: Report, out_dir: Path, html: bool, display: Display, stop: RunStop
) -> None:
    """finish_outputs inside a run: the page is rendered off the event loop, so that a signal
    is heard while it renders; a stop request then leaves the page unwritten."""
    write_stats(report, out_dir, display)  # a few lines: not worth a stop's cutting short
    html_path = None
    if html:
        # A run stopped earlier (during load) still gets its page; a stop while writing is a
        # request to finish now, and the page is left out.
        rendered = await stop.until_stopped(
            asyncio.to_thread(_render, report), even_if_stopped=stop.stopped_in != "writing"
        )
        if rendered is None:
            display.console.print("[yellow]report.html not written: the run was stopped[/yellow]")
        else:
            html_path = _write_page(out_dir, rendered, display)
    show_summary(report, out_dir, html_path, display)


def write_stats(report: Report, out_dir: Path, display: Display) -> None:
    """stats.csv beside report.json: the per-model summary a spreadsheet opens (the columns of
    `--summary csv`, docs/summary.md). A failure is printed, never raised: report.json is whole."""
    try:
        text = summary_csv(report)
        write_text_atomically(out_dir / STATS_FILE, text)
        return
    except OSError as exc:
        error = f"{exc.strerror or exc}"
    except Exception as exc:  # a report it cannot read must not cost the other outputs
        error = f"{type(exc).__name__}: {exc}"[:300]
    display.console.print(
        f"[red]{STATS_FILE} could not be written ({error}); report.json is complete[/red]",
        highlight=False,
    )


def show_summary(report: Report, out_dir: Path, html_path: Path | None, display: Display) -> None:
    if display.quiet:
        return
    try:
        print_summary(report, display.console)
        display.console.print(f"report: {out_dir / 'report.json'}")
        if html_path is not None:
            display.console.print(f"report: {html_path}")
    except BrokenPipeError:  # `loadgen run ... | head`: the reader is gone, the files are not
        silence_stdout()


def _render(report: Report) -> tuple[str | None, str | None]:
    """The page, or None and a one-line reason it could not be made."""
    # Imported here: matplotlib takes a second or two to load, which a run needs only now.
    from loadgen.report.html.page import render

    try:
        return render(report), None
    except Exception as exc:  # a bad figure must not cost the run: say so, keep going
        return None, f"{type(exc).__name__}: {exc}"[:300]


def _write_page(
    out_dir: Path, rendered: tuple[str | None, str | None], display: Display
) -> Path | None:
    from loadgen.report.html.page import write_html  # with render: matplotlib's module

    page, error = rendered
    if page is not None:
        try:
            return write_html(page, out_dir / "report.html")
        except OSError as exc:
            error = f"{exc.strerror or exc}"
    display.console.print(
        f"[red]report.html could not be written ({error}); report.json is complete[/red]",
        highlight=False,
    )
    return None
