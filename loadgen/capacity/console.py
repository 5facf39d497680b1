"""A sweep's summary on the console, from sweep.json's `sweep` object alone: what `loadgen
sweep` prints at its end and `loadgen report SWEEP_FOLDER` prints again. Tables fit the
terminal with every figure whole (loadgen/report/fit.py); sentences wrap."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from loadgen.report.fit import Column, fits, fitted_tables, legend, short_names
from loadgen.report.html.sweep_words import (
    advice_sentence,
    bound_sentence,
    quota_sentence,
    slo_sentence,
    stage_verdict,
    throughput_text,
    verdict_word,
    window_cell,
)
from loadgen.report.html.tables import fmt

MODEL = Column("model", justify="left")
SUMMARY_COLUMNS = [
    Column("knee\nreq/s"),
    Column("highest good\nreq/s"),
    Column("goodput\nreq/s"),
    Column("RPM"),
    Column("TPM"),
    Column("$ / hour"),
    Column("bound by", justify="left"),
]
RATE = Column("req/s")
STAGE_COLUMNS = [
    Column("s"),
    Column("answered"),
    Column("throughput (95 %)"),
    Column("goodput"),
    Column("TTFT p50\nms"),
    Column("quota window", justify="left"),
    Column("verdict", justify="left"),
]
VERDICT_STYLES = {
    "saturated": "red",
    "quota-bound": "red",
    "misses SLOs": "red",
    "meets SLOs": "green",
}


def print_sweep(summary: dict[str, Any], console: Console, *, stages: bool = False) -> None:
    """One row per model (knee, highest good rate and what it means there, what bound it); per
    model, a line on its SLOs, its quota, its bound and max_tokens; with `stages`, every
    stage's figures, quota window and verdict."""
    models = summary["models"]
    rows = [[model, *_summary_cells(data)] for model, data in models.items()]
    names = {model: model for model in models}
    if not fits([MODEL], SUMMARY_COLUMNS, rows, console.width):
        names = short_names(list(models))
        rows = [[escape(names[row[0]]), *row[1:]] for row in rows]
    title = f"sweep {summary['scenario']} — {summary['status']}"
    for table in fitted_tables(escape(title), [MODEL], SUMMARY_COLUMNS, rows, console.width):
        console.print(table)
    if (mapping := legend(names)) is not None:
        console.print(Text(mapping, style="dim"))
    for model, data in models.items():
        console.print(Text(f"{model}: {slo_sentence(data)}"))
        if (quota := quota_sentence(data)) is not None:
            console.print(Text(f"  {quota}"))
        if (bound := bound_sentence(data)) is not None:
            console.print(Text(f"  {bound}"))
        if (advice := advice_sentence(data)) is not None:
            console.print(Text(f"  {advice}"))
        if data.get("stopped_because"):
            count = len(data["stages"])
            console.print(Text(f"  {count} stage(s); stopped: {data['stopped_because']}"))
        if stages:
            _print_stages(model, data["stages"], console)
    for warning in summary.get("warnings", []):
        console.print(Text(f"warning: {warning}", style="yellow"))


def _summary_cells(data: dict[str, Any]) -> list[str]:
    best = data["at_highest_slo"] or {}
    return [
        fmt(data["knee_rps"]),
        fmt(data["highest_slo_rps"]),
        fmt(best.get("goodput_rps")),
        fmt(best.get("requests_per_minute")),
        fmt(best.get("tokens_per_minute")),
        fmt(best.get("cost_per_hour_usd")),
        fmt(data.get("bound_by")),
    ]


def _print_stages(model: str, stages: list[dict[str, Any]], console: Console) -> None:
    """The stage table, by rate; the reasons of each verdict below it (they are sentences)."""
    ordered = sorted(stages, key=lambda s: s["rate"])
    rows = []
    for stage in ordered:
        word = verdict_word(stage)
        style = VERDICT_STYLES.get(word, "dim")
        rows.append(
            [
                fmt(stage["rate"]),
                fmt(stage.get("duration_s")),
                fmt(stage.get("completed")),
                throughput_text(stage),
                fmt(stage.get("goodput_rps")),
                fmt(stage.get("ttft_response_p50_ms")),
                escape(window_cell(stage)),
                f"[{style}]{escape(word)}[/]",
            ]
        )
    title = escape(f"{model}: stages")
    for table in fitted_tables(title, [RATE], STAGE_COLUMNS, rows, console.width):
        console.print(table)
    for stage in ordered:
        if (why := stage_verdict(stage)) != verdict_word(stage):
            console.print(Text(f"  {fmt(stage['rate'])} req/s: {why}"))
