"""Commands over runs already on disk: `report` prints one, `merge` joins runs made side by
side, `compare` tests a new run against a base for regressions."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from loadgen.commands.options import quiet_option, wide_option
from loadgen.commands.terminal import friendly_errors, terminal_console
from loadgen.commands.tool_outputs import tool_output_options, write_tool_outputs

if TYPE_CHECKING:  # imported when a command runs (loadgen/commands/__init__.py)
    from loadgen.report.schema import Report


@click.command()
@click.argument("run_path", metavar="RUN", type=click.Path(path_type=Path))
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the compact summary as JSON instead of the tables (docs/summary.md).",
)
@click.option("--full", is_flag=True, help="With --json: print the whole report.json.")
@click.option(
    "--html", is_flag=True, help="Also build report.html (a sweep: sweep.html) again beside it."
)
@wide_option
@tool_output_options
@friendly_errors
def report(run_path: Path, as_json: bool, full: bool, html: bool, wide: bool, **tools: Any) -> None:
    """Print the summary of a finished RUN (its folder or report.json) from its saved files;
    a sweep's folder (or its sweep.json): the sweep's summary and stages."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    import json

    from loadgen.capacity.saved import sweep_path
    from loadgen.report.console import print_summary
    from loadgen.report.saved_run import load_run, reading
    from loadgen.report.summary import compact_summary

    if (found := sweep_path(run_path)) is not None:
        if tools.get("summary") or tools.get("junit"):
            raise click.UsageError(
                "--summary and --junit summarise one run: give a stage's folder of the sweep "
                "(each stage is a run with its own report.json)"
            )
        _report_sweep(found, as_json, html, wide)
        return
    saved = load_run(run_path)
    with reading(saved):
        if as_json:
            shown = saved.report if full else compact_summary(saved.report)
            click.echo(json.dumps(shown, indent=2))
        else:
            print_summary(saved.report, terminal_console(wide))
        if html:
            _write_html(saved.report, saved.report_path.parent)
        write_tool_outputs(saved.report, tools)


def _report_sweep(path: Path, as_json: bool, html: bool, wide: bool) -> None:
    """`loadgen report` on a sweep: its summary with every stage, or sweep.json; --html draws
    sweep.html again beside it."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    import json

    from loadgen.capacity.console import print_sweep
    from loadgen.capacity.saved import load_sweep
    from loadgen.report.html.page import write_html
    from loadgen.report.html.sweep import render_sweep

    document = load_sweep(path)
    if as_json:
        click.echo(json.dumps(document, indent=2))
    else:
        print_sweep(document["sweep"], terminal_console(wide), stages=True)
    if html:
        page = path.with_name("sweep.html")
        with writing(page):
            write_html(render_sweep(document), page)
        click.echo(f"sweep: {page}", err=True)


def _write_html(report: Report, folder: Path) -> None:
    """report.html from a report already on disk; a failure is an error here (exit 1 is a bug)."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    from loadgen.report.html.page import render, write_html

    page = render(report)
    with writing(folder / "report.html"):
        path = write_html(page, folder / "report.html")
    click.echo(f"report: {path}", err=True)


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Writing an output the user asked for: a file system error is one clear line (exit 6),
    not a traceback; what the command read is untouched."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    from loadgen.core.errors import OutputError

    try:
        yield
    except OSError as exc:
        other = exc.filename and not str(exc.filename).startswith(str(path))
        where = f" ({exc.filename})" if other else ""  # not the file itself, nor its .tmp
        raise OutputError(
            f"cannot write {path}: {exc.strerror or exc}{where}; choose a path in a folder you "
            "can write"
        ) from None


@click.command()
@click.argument("runs", metavar="RUN...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the merged report.json and samples.jsonl.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Merge runs of different scenarios or schemas; write into an OUT holding a run.",
)
@click.option(
    "--allow-disjoint",
    is_flag=True,
    help="Merge runs that did not run at the same time (made one after another).",
)
@quiet_option
@friendly_errors
def merge(
    runs: tuple[Path, ...], out: Path, force: bool, allow_disjoint: bool, quiet: bool
) -> None:
    """Merge runs made side by side (several processes or machines) into one report."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    from loadgen.report.console import print_summary
    from loadgen.report.merge import check_mergeable, merge_runs
    from loadgen.report.saved_run import load_run
    from loadgen.run.out_folder import claim_out_dir

    # Any schema_version: check_mergeable refuses different ones unless --force.
    saved = [load_run(path, any_schema=True) for path in runs]
    check_mergeable(saved, out, force=force, allow_disjoint=allow_disjoint)
    # As `run --out`: OUT is locked, and refused if it holds a run, unless --force.
    claim_out_dir(out, force=force)
    with writing(out):
        merged = merge_runs(saved, out, force=force, allow_disjoint=allow_disjoint)
    _write_html(merged, out)
    if not quiet:
        console = terminal_console()
        print_summary(merged, console)
        console.print(f"report: {out / 'report.json'}")


@click.command()
@click.argument("base", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--min-effect",
    type=float,
    default=5.0,
    show_default=True,
    help="Smallest change, in %, that can count as a regression.",
)
@click.option(
    "--min-effect-ms",
    type=float,
    default=1.0,
    show_default=True,
    help="Smallest latency change, in ms, that can count.",
)
@click.option("--confidence", type=float, default=0.95, show_default=True, help="Of the interval.")
@click.option("--alpha", type=float, default=0.05, show_default=True, help="For error rates.")
@click.option("--resamples", type=int, default=1000, show_default=True, help="Bootstrap draws.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--min-samples", type=int, default=20, show_default=True, help="Fewer: not tested.")
@click.option(
    "--json",
    "json_out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the comparison as JSON here.",
)
@click.option(
    "--html",
    "html_out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write an HTML page comparing the two runs here.",
)
@click.option(
    "--allow-different-targets",
    is_flag=True,
    help="Compare runs made against different targets, emulator versions or profiles, "
    "scenarios or loads (refused otherwise, exit 9); the differences are still printed.",
)
@quiet_option
@friendly_errors
def compare(
    base: Path,
    new: Path,
    json_out: Path | None,
    html_out: Path | None,
    allow_different_targets: bool,
    quiet: bool,
    **method: Any,
) -> None:
    """Compare run NEW with run BASE (folders or report.json); exit 4 on a regression, 9 when
    they were not made against the same thing (target, emulator, scenario, load)."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    from loadgen.compare.display import comparison_view, print_comparison
    from loadgen.compare.provenance import check_comparable
    from loadgen.compare.runs import CompareOptions, compare_reports
    from loadgen.report.build import write_json_atomically
    from loadgen.report.saved_run import load_run, reading

    options = CompareOptions(**{**method, "min_effect": method["min_effect"] / 100})
    base_run, new_run = load_run(base), load_run(new)
    labels = (base_run.label, new_run.label)
    with reading(base_run, new_run):
        # Before any verdict: runs of different things are refused (exit 9), not compared.
        notes = check_comparable(
            base_run.report, new_run.report, labels, allow_different=allow_different_targets
        )
        comparison = compare_reports(base_run.report, new_run.report, options, labels=labels)
        comparison.notes[:0] = notes
        if json_out is not None:
            with writing(json_out):
                write_json_atomically(json_out, comparison.to_json())
        if html_out is not None:
            from loadgen.report.html.comparison import render_comparison
            from loadgen.report.html.page import write_html

            view = comparison_view(comparison)
            page = render_comparison(base_run.report, new_run.report, view)
            with writing(html_out):
                write_html(page, html_out)
        if not quiet:
            print_comparison(comparison, terminal_console())
    sys.exit(comparison.exit_code)
