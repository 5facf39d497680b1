"""What a finished run shows besides report.json: report.html beside it, and the console
summary. The same for a single process and for a run merged from workers."""

from __future__ import annotations

from pathlib import Path

from loadgen.report.console import print_summary
from loadgen.report.schema import Report
from loadgen.run.display import Display


def finish_outputs(report: Report, out_dir: Path, html: bool, display: Display) -> None:
    """Write report.html when asked (a failure is printed, never raised: report.json is
    already whole), then print the summary unless quiet."""
    html_path = None
    if html:
        # Imported here: matplotlib takes a second or two to load, which a run needs only now.
        from loadgen.report.html.page import save_report_html

        html_path, html_error = save_report_html(report, out_dir)
        if html_error is not None:
            display.console.print(
                f"[red]report.html could not be written ({html_error}); "
                f"report.json is complete[/red]",
                highlight=False,
            )
    if not display.quiet:
        print_summary(report, display.console)
        display.console.print(f"report: {out_dir / 'report.json'}")
        if html_path is not None:
            display.console.print(f"report: {html_path}")
