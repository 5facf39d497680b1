"""The compact summary of a run, one row per model, for the tools a CI job or a spreadsheet
uses: JSON, CSV and Markdown (`--summary json|csv|md FILE`, `stats.csv` beside report.json,
`loadgen report --json`). docs/summary.md documents every column and its type.

Everything here is read from report.json, so a saved run gives the same summary as the run
that wrote it. The columns are declared once (`COLUMNS`): the CSV header, the JSON keys, the
Markdown table and the documented types all come from that list.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Literal, NamedTuple, get_args

from typing_extensions import TypedDict

from loadgen.core.atomic_file import write_text_atomically
from loadgen.report.answer_sections import CONTENT_FILTERED, GUARDRAIL, truncated
from loadgen.report.schema import (
    CheckResult,
    ModelSection,
    Report,
    RunStatus,
    ThresholdsSection,
    TrustAssessment,
)
from loadgen.report.trust import assess_trust, trust_line

SummaryFormat = Literal["json", "csv", "md"]
SUMMARY_FORMATS: tuple[SummaryFormat, ...] = get_args(SummaryFormat)
# The compact JSON's own version: bumped when a column changes (2: the answer columns, from
# stop_reasons on, added at the end).
SUMMARY_VERSION = 2
STATS_FILE = "stats.csv"  # written beside report.json by every run (loadgen/run/outputs.py)

# What a column holds, as every tool reads it: CSV writes null as an empty field.
ColumnKind = Literal["string", "integer", "number", "boolean"]


class Column(NamedTuple):
    name: str
    kind: ColumnKind
    meaning: str


COLUMNS: tuple[Column, ...] = (
    Column("model", "string", "the model id"),
    Column("sent", "integer", "requests sent and measured (warmup, drops, cancels apart)"),
    Column("ok", "integer", "sent requests that succeeded"),
    Column("errors", "integer", "sent requests that failed, throttled ones included"),
    Column("throttled", "integer", "sent requests refused for rate (429)"),
    Column("dropped", "integer", "requests never sent: the in-flight cap was hit"),
    Column("cancelled", "integer", "requests in flight when the run stopped"),
    Column("error_rate", "number", "errors / sent, 0 to 1; null when nothing was sent"),
    Column("ttft_p50_ms", "number", "time to first token from send, p50, ms"),
    Column("ttft_p95_ms", "number", "time to first token from send, p95, ms"),
    Column("ttft_p99_ms", "number", "time to first token from send, p99, ms"),
    Column("ttlt_p50_ms", "number", "time to last byte from send, p50, ms"),
    Column("ttlt_p99_ms", "number", "time to last byte from send, p99, ms"),
    Column("itl_p50_ms", "number", "gap between content deltas, p50, ms"),
    Column("tpot_p50_ms", "number", "time per output token after the first, p50, ms"),
    Column("output_tokens_per_s", "number", "output tokens over the measured window, per s"),
    Column("input_tokens_per_request", "number", "mean input tokens of a request"),
    Column("output_tokens_per_request", "number", "mean output tokens of a request"),
    Column("cost_per_1k_answered_usd", "number", "USD per 1,000 successful requests"),
    Column("emulated", "boolean", "the endpoint was loadgen's emulator: synthetic figures"),
    Column("trustworthy", "boolean", "the figures describe the load asked for (trust)"),
    Column("status", "string", "completed, interrupted, aborted or failed"),
    Column("run_id", "string", "report.json's run.run_id (empty before schema_version 3)"),
    Column("stop_reasons", "string", "answers by stop reason, e.g. end_turn=40 max_tokens=2"),
    Column("guardrail_intervened", "integer", "answers a guardrail stopped"),
    Column("content_filtered", "integer", "answers stopped by content filtering"),
    Column("truncated", "integer", "answers cut at max_tokens or the context window"),
    Column("cache_hit_rate", "number", "cache-read / all input tokens, 0 to 1; null: no usage"),
    Column("ttfa_p50_ms", "number", "time to first answer token from send, p50, ms"),
    Column("ttfa_p99_ms", "number", "time to first answer token from send, p99, ms"),
)
COLUMN_NAMES = tuple(column.name for column in COLUMNS)


class SummaryRow(TypedDict):
    """One model of the run: the columns of COLUMNS, in their order."""

    model: str
    sent: int
    ok: int
    errors: int
    throttled: int
    dropped: int
    cancelled: int
    error_rate: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    ttft_p99_ms: float | None
    ttlt_p50_ms: float | None
    ttlt_p99_ms: float | None
    itl_p50_ms: float | None
    tpot_p50_ms: float | None
    output_tokens_per_s: float | None
    input_tokens_per_request: float | None
    output_tokens_per_request: float | None
    cost_per_1k_answered_usd: float | None
    emulated: bool
    trustworthy: bool
    status: RunStatus
    run_id: str
    stop_reasons: str
    guardrail_intervened: int
    content_filtered: int
    truncated: int
    cache_hit_rate: float | None
    ttfa_p50_ms: float | None
    ttfa_p99_ms: float | None


class SummaryRun(TypedDict):
    run_id: str
    scenario: str
    status: RunStatus
    status_reason: str | None
    started_at: str
    ended_at: str
    wall_s: float
    api: str
    emulated: bool


class SummaryVerdict(TypedDict):
    requirements: list[str]
    meeting_all: list[str]  # the models that meet every requirement
    pareto_front: list[str]


class CompactSummary(TypedDict):
    """`--summary json` and `loadgen report --json`: the run in a few kB, no histograms."""

    summary_version: int
    run: SummaryRun
    trust: TrustAssessment
    models: list[SummaryRow]
    thresholds: ThresholdsSection | None
    verdict: SummaryVerdict | None


def cost_per_1k_answered(section: ModelSection) -> float | None:
    """The model's cost per 1,000 successful requests: the one place the summary reads a cost
    figure of report.json, so a rename there is one line here."""
    cost = section["cost"]
    return None if cost is None else cost.get("per_1k_answered_usd")


def summary_rows(report: Report) -> list[SummaryRow]:
    trust = _trust(report)
    run = report["run"]
    return [
        _row(model, section, trust, run["status"], run.get("run_id", ""))
        for model, section in report["models"].items()
    ]


def _row(
    model: str, section: ModelSection, trust: TrustAssessment, status: RunStatus, run_id: str
) -> SummaryRow:
    requests = section["requests"]
    latency = section["latency_ms"]
    ttft, ttlt = latency["ttft"]["service"], latency["ttlt"]["service"]
    tokens = section["tokens"]
    stops = section.get("stop_reasons", {})  # .get: absent before loadgen counted them
    ttfa = latency.get("ttfa")  # absent before loadgen told content kinds apart
    return {
        "model": model,
        "sent": requests["sent"],
        "ok": requests["ok"],
        "errors": requests["sent"] - requests["ok"],
        "throttled": requests["errors"]["throttled"],
        "dropped": requests["dropped"],
        "cancelled": requests.get("cancelled", 0),
        "error_rate": _number(requests["error_rate"]),
        "ttft_p50_ms": _number(ttft["p50"]),
        "ttft_p95_ms": _number(ttft["p95"]),
        "ttft_p99_ms": _number(ttft["p99"]),
        "ttlt_p50_ms": _number(ttlt["p50"]),
        "ttlt_p99_ms": _number(ttlt["p99"]),
        "itl_p50_ms": _number(latency["itl"]["p50"]),
        "tpot_p50_ms": _number(latency["tpot"]["p50"]),
        "output_tokens_per_s": _number(section["throughput"]["output_tokens_per_s"]),
        "input_tokens_per_request": _number(tokens["input"]["mean"]),
        "output_tokens_per_request": _number(tokens["output"]["mean"]),
        "cost_per_1k_answered_usd": _number(cost_per_1k_answered(section)),
        "emulated": trust["emulated"],
        "trustworthy": trust["trustworthy"],
        "status": status,
        "run_id": run_id,
        "stop_reasons": " ".join(f"{reason}={count}" for reason, count in stops.items()),
        "guardrail_intervened": stops.get(GUARDRAIL, 0),
        "content_filtered": stops.get(CONTENT_FILTERED, 0),
        "truncated": truncated(stops),
        "cache_hit_rate": _cache_hit_rate(section),
        "ttfa_p50_ms": None if ttfa is None else _number(ttfa["p50"]),
        "ttfa_p99_ms": None if ttfa is None else _number(ttfa["p99"]),
    }


def _cache_hit_rate(section: ModelSection) -> float | None:
    """The cache section's, or 0 where the model read nothing from a cache (no section) but
    has usage to say so; null without usage."""
    if (cache := section.get("cache")) is not None:
        return _number(cache["hit_rate"])
    return 0.0 if section["tokens"]["input"]["total"] else None


def _number(value: float | None) -> float | None:
    """A figure as a float: report.json read back may hold 352 for 352.0, and a column of
    one tool type must not turn integer where every figure happens to be whole."""
    return None if value is None else float(value)


def _trust(report: Report) -> TrustAssessment:
    # A report saved before schema_version 3 has no trust section: assessed as it is read.
    return report.get("trust") or assess_trust(report)


def compact_summary(report: Report) -> CompactSummary:
    run = report["run"]
    verdict = report.get("verdict")
    trust = _trust(report)
    return {
        "summary_version": SUMMARY_VERSION,
        "run": {
            "run_id": run.get("run_id", ""),
            "scenario": run["scenario"],
            "status": run["status"],
            "status_reason": run["status_reason"],
            "started_at": run["started_at"],
            "ended_at": run["ended_at"],
            "wall_s": run["wall_s"],
            "api": run["target"]["api"],
            "emulated": trust["emulated"],
        },
        "trust": trust,
        "models": summary_rows(report),
        "thresholds": report.get("thresholds"),
        "verdict": None
        if verdict is None
        else {
            "requirements": verdict["requirements"],
            "meeting_all": verdict["meeting_all"],
            "pareto_front": verdict["pareto"]["front"],
        },
    }


def summary_csv(report: Report) -> str:
    """A header and one line per model: null as an empty field, booleans as true/false,
    numbers in plain decimals (no exponent)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMN_NAMES)
    for row in summary_rows(report):
        values: Mapping[str, object] = row
        writer.writerow(_csv_cell(values[column.name], column.kind) for column in COLUMNS)
    return out.getvalue()


def _csv_cell(value: object, kind: ColumnKind) -> str:
    if value is None:
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "number":
        assert isinstance(value, float)
        return _plain_decimal(value)
    return str(value)


def _plain_decimal(value: float) -> str:
    """The float's shortest exact spelling, without an exponent: 3.5e-05 -> 0.000035, and a
    whole figure keeps its point (352.0), so a reader types the column as a decimal."""
    return format(Decimal(repr(value)), "f")


def summary_markdown(report: Report) -> str:
    """The trust line, then the table: for a CI job's step summary or a pull request."""
    run = report["run"]
    trust = _trust(report)
    lines = [f"### loadgen: {run['scenario']} ({run['status']})", ""]
    lines.append(f"**{trust_line(trust)}**")
    if trust["emulated"]:
        lines.append("")
        lines.append("_Built-in emulator: every figure below is synthetic._")
    lines += ["", _markdown_table(summary_rows(report))]
    thresholds = report.get("thresholds")
    if thresholds is not None:
        lines += ["", _thresholds_line(thresholds)]
    if run.get("run_id"):
        lines += ["", f"run `{run['run_id']}`, started {run['started_at']}"]
    return "\n".join(lines) + "\n"


# Markdown shows the figures a reader compares; the CSV and JSON have every column.
_MARKDOWN_COLUMNS = (
    "model",
    "sent",
    "ok",
    "errors",
    "throttled",
    "dropped",
    "error_rate",
    "ttft_p50_ms",
    "ttft_p99_ms",
    "ttlt_p50_ms",
    "ttlt_p99_ms",
    "tpot_p50_ms",
    "output_tokens_per_s",
    "cost_per_1k_answered_usd",
)


def _markdown_table(rows: list[SummaryRow]) -> str:
    kinds = {column.name: column.kind for column in COLUMNS}
    header = "| " + " | ".join(_MARKDOWN_COLUMNS) + " |"
    rule = "|" + "|".join(":--" if kinds[n] == "string" else "--:" for n in _MARKDOWN_COLUMNS)
    body = []
    for row in rows:
        values: Mapping[str, object] = row
        cells = (_markdown_cell(name, values[name]) for name in _MARKDOWN_COLUMNS)
        body.append("| " + " | ".join(cells) + " |")
    return "\n".join([header, rule + "|", *body])


def _markdown_cell(name: str, value: object) -> str:
    if value is None:
        return "-"
    if name == "model":
        return f"`{value}`"
    if isinstance(value, float):
        if name == "error_rate":
            return f"{value:.2%}"
        if name == "cost_per_1k_answered_usd":
            return f"${value:,.4f}"
        return f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _thresholds_line(thresholds: ThresholdsSection) -> str:
    results = thresholds["results"]
    passed = len(results) - thresholds["failed"]
    line = f"thresholds: {passed} of {len(results)} passed"
    failed = [r for r in results if not r["passed"]]
    return line + "".join(f"\n- ✗ {_check_text(r)}" for r in failed)


def _check_text(result: CheckResult) -> str:
    measured = "no data" if result["measured"] is None else f"{result['measured']:g}"
    return f"`{result['check']}` on `{result['model']}`: measured {measured}"


def render_summary(report: Report, fmt: SummaryFormat) -> str:
    if fmt == "csv":
        return summary_csv(report)
    if fmt == "md":
        return summary_markdown(report)
    return json.dumps(compact_summary(report), indent=2) + "\n"


def write_summary(report: Report, fmt: SummaryFormat, path: Path) -> Path:
    """The summary in `fmt` at `path`, written aside and renamed over (never half a file)."""
    write_text_atomically(path, render_summary(report, fmt))
    return path
