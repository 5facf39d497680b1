"""A comparison as people read it: one formatted row per model and metric, shared by the
console table and compare.html, so both show the same metrics, intervals and verdict words.

Rates change in percentage points (`+10.64 pp`), never as a bare difference of shares. A
row's tone is the test's verdict, direction-aware (for latency up is worse, for throughput
up is better): a change without significance is greyed, never red for its sign alone.
"""

from __future__ import annotations

import math

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from loadgen.compare.runs import (
    IMPROVEMENT,
    NO_CHANGE,
    NOT_TESTED,
    REGRESSION,
    CompareOptions,
    Comparison,
    Row,
)
from loadgen.report.fit import Column, fitted_tables
from loadgen.report.html.comparison import ChangeRow, ComparisonView, Tone
from loadgen.report.html.tables import fmt, percent

TONES: dict[str, Tone] = {
    REGRESSION: "regression",
    IMPROVEMENT: "improvement",
    NO_CHANGE: "no-change",
    NOT_TESTED: "untested",
}
CONSOLE_STYLES: dict[Tone, str] = {
    "regression": "bold red",
    "improvement": "green",
    "no-change": "dim",
    "untested": "dim",
}
UNITS = {"ms": "ms", "tok/s": "tok/s"}  # shown after a figure; rates and USD carry their own
SMALLEST_P = 0.001  # below it, "p < 0.001": more digits say nothing more
KEYS = [Column("metric", justify="left")]
COLUMNS = [
    Column("base"),
    Column("new"),
    Column("change"),
    Column("interval / p"),
    Column("verdict", justify="left"),
]


def comparison_view(comparison: Comparison) -> ComparisonView:
    count = len(comparison.regressions)
    return {
        "base": comparison.base,
        "new": comparison.new,
        "rows": [change_row(row) for row in comparison.rows],
        "notes": list(comparison.notes),
        "method": method_text(comparison.options),
        "summary": (
            f"{count} significant regression{'s' if count != 1 else ''}"
            if count
            else "no significant regression"
        ),
        "regressions": count,
    }


def change_row(row: Row) -> ChangeRow:
    verdict = row.verdict if row.verdict != NOT_TESTED else f"{NOT_TESTED} ({row.reason})"
    return {
        "model": row.model,
        "metric": row.metric,
        "base": value_text(row.base, row.unit),
        "new": value_text(row.new, row.unit),
        "change": change_text(row),
        "evidence": evidence_text(row),
        "verdict": verdict,
        "tone": TONES[row.verdict],
    }


def value_text(value: float | None, unit: str) -> str:
    if value is None:
        return fmt(None)
    if unit == "rate":
        return percent(value)
    if unit == "USD":
        return f"${fmt(value)}"
    return f"{fmt(value)} {UNITS.get(unit, unit)}".strip()


def signed_text(value: float, unit: str) -> str:
    """A difference with its sign, in its unit: `+27.8 ms`, `-$0.0012`, `+10.64 pp`."""
    if unit == "rate":
        return f"{value * 100:+.2f} pp"
    sign = "+" if value > 0 else "-" if value < 0 else ""
    if unit == "USD":
        return f"{sign}${fmt(abs(value))}"
    return f"{sign}{fmt(abs(value))} {UNITS.get(unit, unit)}".strip()


def change_text(row: Row) -> str:
    """The change in the metric's unit (rates in percentage points), and relative to base."""
    if row.change is None:
        return fmt(None)
    text = signed_text(row.change, row.unit)
    if row.unit == "rate":
        return text
    relative = row.change_relative
    if relative is not None and math.isfinite(relative):
        text += f" ({relative:+.1%})"
    return text


def evidence_text(row: Row) -> str:
    """The interval of new - base (bootstrap), or the p-value of the two-proportion test."""
    if row.p_value is not None:
        if row.p_value < SMALLEST_P:
            return f"p < {SMALLEST_P:g}"
        return f"p = {row.p_value:.2g}"
    if row.ci is None:
        return fmt(None)
    low, high = (signed_text(bound, row.unit) for bound in row.ci)
    unit = UNITS.get(row.unit)
    if unit is not None:  # the unit once, after the pair
        low, high = low.removesuffix(f" {unit}"), high.removesuffix(f" {unit}")
        return f"[{low}, {high}] {unit}"
    return f"[{low}, {high}]"


def method_text(options: CompareOptions) -> str:
    return (
        f"bootstrap ({fmt(options.resamples)} resamples, seed {options.seed}, "
        f"{options.confidence:.0%} interval of new - base) for latency, tokens/s and cost; "
        f"two-proportion test (alpha {options.alpha:g}) for rates; a change counts when it is "
        f"significant and at least {options.min_effect:.0%} (and {fmt(options.min_effect_ms)} ms "
        "for latency)"
    )


def print_comparison(comparison: Comparison, console: Console) -> None:
    """The console's tables, one per model: the rows compare.html shows, in the same words,
    split by columns where the terminal is too narrow (loadgen/report/fit.py): no figure cut."""
    view = comparison_view(comparison)
    console.print(Text(f"{view['base']} → {view['new']}", style="bold"))
    for model in dict.fromkeys(row["model"] for row in view["rows"]):
        rows = [
            [
                escape(row["metric"]),
                escape(row["base"]),
                escape(row["new"]),
                *(
                    f"[{CONSOLE_STYLES[row['tone']]}]{escape(text)}[/]"
                    for text in (row["change"], row["evidence"], row["verdict"])
                ),
            ]
            for row in view["rows"]
            if row["model"] == model
        ]
        for table in fitted_tables(model, KEYS, COLUMNS, rows, console.width):
            console.print(table)
    for note in view["notes"]:
        console.print(Text(f"note: {note}", style="yellow"))
    console.print(Text(f"method: {view['method']}"))
    console.print(Text(view["summary"], style="bold red" if view["regressions"] else ""))
