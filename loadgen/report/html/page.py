"""report.html: one self-contained page (inline SVG charts, no scripts) built from report.json.

`render` needs nothing but the report dict, so a saved run can be rendered again offline;
compare.html and sweep.html are drawn by comparison.py and sweep.py with these building
blocks. Sections that later versions or other commands add to the report (quality, verdict,
sweep, ...) are shown when present.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from loadgen import __version__
from loadgen.core.atomic_file import write_text_atomically
from loadgen.report.html import charts as html_charts
from loadgen.report.html import sections as html_sections
from loadgen.report.html.answers import ANSWER_KEYS, answer_cards, answer_tables, flagged_alert
from loadgen.report.html.replay_chart import replay_chart
from loadgen.report.html.tables import fmt, percent, table
from loadgen.report.html.trust import SYNTHETIC, synthetic, trust_banner
from loadgen.report.quota_text import quota_minute_rows, quota_rows
from loadgen.report.schema import (
    REPORTED_ERRORS,
    CostSection,
    HdrName,
    HistogramSummary,
    LatencySection,
    LoadInfo,
    ModelSection,
    Report,
    RunSection,
    TimeSeriesSection,
)

# "trust" has its own place: the line under the header.
KNOWN_TOP = {"schema_version", "run", "models", "comparison", "timeseries", "trust"}
KNOWN_MODEL = {"requests", "latency_ms", "tokens", "throughput", "cost", "out_of_range", "hdr"}
# Optional sections, in the order they are shown; any other unknown key follows them.
EXTRA_TITLES = {
    "verdict": "Verdict",
    "quality": "Quality",
    "thresholds": "Thresholds",
    "sweep": "Sweep",
    "streaming_comparison": "Streaming vs non-streaming",
    "streaming": "Streaming vs non-streaming",
    "quota": "Quota use, by Bedrock's rules",
    "replay": "Replay: the log beside what was sent",
}
COMPARISON_COLUMNS = {
    "cost_per_1k_answered_usd": "$ / 1k answered",
    "cost_per_1k_sent_usd": "$ / 1k sent",
    "ttft_p50_ms": "TTFT p50 ms",
    "ttft_p95_ms": "TTFT p95 ms",
    "ttlt_p95_ms": "TTLT p95 ms",
    "output_tokens_per_s": "out tok/s",
    "error_rate": "error rate",
}
# .get throughout: a report saved by an older loadgen may lack a figure added since.
LATENCY_ROWS: dict[str, Callable[[LatencySection], HistogramSummary | None]] = {
    "TTFT service": lambda latency: latency.get("ttft", {}).get("service"),
    "TTFT response": lambda latency: latency.get("ttft", {}).get("response"),
    "TTLT service": lambda latency: latency.get("ttlt", {}).get("service"),
    "TTLT response": lambda latency: latency.get("ttlt", {}).get("response"),
    "ITL": lambda latency: latency.get("itl"),
    "TPOT": lambda latency: latency.get("tpot"),
    "TTFA service": lambda latency: latency.get("ttfa"),
    "schedule lag": lambda latency: latency.get("schedule_lag"),
    "client prep": lambda latency: latency.get("client_prep"),
    "pool wait": lambda latency: latency.get("pool_wait"),
}
# (title, histogram) of the charts that overlay the models, or the two runs compared.
OVERLAID: tuple[tuple[str, HdrName], ...] = (("TTFT", "ttft_service"), ("TTLT", "ttlt_service"))
SWEEP_X_KEYS = ("rate", "target_rps", "offered_rps", "rps", "concurrency")
LAG_LIMIT_MS = 10.0
MAX_SERIES_ROWS = 300


def page_environment() -> Environment:
    """The templates' Jinja environment, shared by every page loadgen writes (run, comparison,
    sweep, plan)."""
    environment = Environment(
        loader=PackageLoader("loadgen.report.html", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals.update(fmt=fmt, percent=percent, version=__version__)
    return environment


def render(report: Report) -> str:
    """The HTML page for one run's report.json."""
    run = report["run"]
    models = report.get("models", {})
    series = report.get("timeseries", {})
    lag = html_charts.merged([data.get("hdr", {}).get("schedule_lag") for data in models.values()])
    overlay = None
    if len(models) > 1:
        overlay = html_charts.cdfs(
            [
                (title, [(m, d.get("hdr", {}).get(key)) for m, d in models.items()])
                for title, key in OVERLAID
            ]
        )
    total_cost = sum(
        (cost.get("total_usd") or 0) if (cost := d.get("cost")) else 0 for d in models.values()
    )
    trust = trust_banner(report)
    emulated = trust["emulated"]
    page = (
        page_environment()
        .get_template("report.html.j2")
        .render(
            run=run,
            load_text=_load_text(run.get("load", {})),
            trust=trust,
            synthetic=f" ({SYNTHETIC})" if emulated else "",
            comparison=_comparison(report.get("comparison", []), models, emulated),
            total_cost=total_cost,
            overlay=safe_svg(overlay),
            extras=_extras(report, trust),
            charts={
                "throughput": safe_svg(
                    html_charts.throughput(series, run.get("generator", {}).get("target_rps"))
                ),
                "errors": safe_svg(html_charts.error_timeline(series)),
                "lag": safe_svg(html_charts.schedule_lag(series, lag)),
            },
            lag_limit=fmt(LAG_LIMIT_MS),
            models=[_model(name, data, series, emulated) for name, data in models.items()],
            series_columns=_series_columns(series),
            series_step=math.ceil(len(series.get("sends", [])) / MAX_SERIES_ROWS) or 1,
            series_rows=_series_rows(series),
            everything=table(html_sections.without_hdr(_without_bulk(report))),
        )
    )
    return str(page)


def write_html(html: str, path: Path) -> Path:
    """Write aside, then rename over: a reader never sees half a page."""
    write_text_atomically(path, html)
    return path


def safe_svg(svg: str | None) -> Markup | None:
    """A chart's SVG, marked safe for the templates."""
    return None if svg is None else Markup(svg)  # our own matplotlib output: trusted


def anchor_of(name: str) -> str:
    """The in-page anchor of a model's section."""
    return "model-" + re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


def _short(name: str) -> str:
    return html_charts.short_name(name)


def _load_text(load: LoadInfo) -> str:
    parts = [str(load.get("arrival") or "")]
    if load.get("rate") is not None:
        parts.append(f"{fmt(load['rate'])} req/s")
    if load.get("concurrency") is not None:
        parts.append(f"concurrency {fmt(load['concurrency'])}")
    if load.get("duration") is not None:
        parts.append(f"for {fmt(load['duration'])} s")
    if load.get("requests") is not None:
        parts.append(f"{fmt(load['requests'])} requests")
    if load.get("warmup"):
        parts.append(f"after {fmt(load['warmup'])} s warmup")
    return " ".join(p for p in parts if p)


def _comparison(
    rows: Sequence[Mapping[str, object]], models: Mapping[str, ModelSection], emulated: bool
) -> dict[str, Any]:
    """The models side by side, with any column another command added to the rows; costs
    marked synthetic when the run was emulated; drops in a column of their own."""
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k != "model" and k not in keys)

    def cell(key: str, value: Any) -> str:
        if key.endswith("_rate") and isinstance(value, int | float):
            return percent(value)
        if key.startswith("cost_per_1k_") and value is None:
            return "unpriced"
        return fmt(value)

    return {
        "columns": [
            synthetic(COMPARISON_COLUMNS.get(k, k.replace("_", " ")), emulated and "cost" in k)
            for k in keys
        ],
        "rows": [
            {
                "model": row.get("model"),
                "cells": [cell(k, row.get(k)) for k in keys],
                "dropped": _dropped(models, row.get("model")),
            }
            for row in rows
        ],
    }


def _dropped(models: Mapping[str, ModelSection], model: object) -> int | None:
    section = models.get(model) if isinstance(model, str) else None
    return None if section is None else section.get("requests", {}).get("dropped")


def _extras(report: Report, trust: Mapping[str, Any]) -> list[dict[str, Any]]:
    # Any key: later versions and other commands (sweep) add sections of their own.
    everything: Mapping[str, object] = report
    verdict, streaming = report.get("verdict"), report.get("streaming_comparison")
    ordered = [k for k in EXTRA_TITLES if k in everything]
    ordered += [k for k in everything if k not in KNOWN_TOP and k not in EXTRA_TITLES]
    extras = []
    for key in ordered:
        value = everything[key]
        if value is None:
            continue
        charts = _sweep_charts(value) if key == "sweep" else []
        if key == "replay" and "replay" in report:  # the log beside what was sent
            charts = [replay_chart(report["replay"])]
        if key == "verdict" and isinstance(verdict, dict):
            shown = html_sections.verdict(verdict, trust["trustworthy"], trust["emulated"])
        elif key == "streaming_comparison" and isinstance(streaming, dict):
            shown = html_sections.streaming(streaming)
        elif key == "quota" and "quota" in report:
            section = report["quota"]
            shown = table(quota_rows(section)) + table(quota_minute_rows(section))
        else:
            shown = table(html_sections.without_hdr(value))
        extras.append(
            {
                "id": f"extra-{anchor_of(key)}",
                "title": synthetic(
                    EXTRA_TITLES.get(key, key.replace("_", " ").capitalize()),
                    trust["emulated"] and key == "verdict",
                ),
                "table": shown,
                "charts": [safe_svg(c) for c in charts],
            }
        )
    return extras


def _model(
    name: str, data: ModelSection, series: TimeSeriesSection, emulated: bool
) -> dict[str, Any]:
    hdr = data.get("hdr", {})
    requests = data.get("requests", {})
    latency = data.get("latency_ms", {})
    errors = requests.get("errors", {})
    others = sum(errors.get(e, 0) for e in REPORTED_ERRORS if e != "throttled")
    cost = data.get("cost")
    dropped = requests.get("dropped", 0)
    # (label, value, unit, class): drops are never errors, and have a colour of their own.
    cards = [
        ("sent", fmt(requests.get("sent")), "", ""),
        ("ok", fmt(requests.get("ok")), "", ""),
        ("throttled", fmt(errors.get("throttled")), "", ""),
        ("other errors", fmt(others), "", ""),
        ("dropped", fmt(dropped), "never sent", "dropped" if dropped else ""),
        ("TTFT p50 / p99", _pair(latency, "ttft"), "ms", ""),
        ("TTLT p50 / p99", _pair(latency, "ttlt"), "ms", ""),
        ("TPOT p50", fmt(latency.get("tpot", {}).get("p50")), "ms", ""),
        ("output tokens/s", fmt(data.get("throughput", {}).get("output_tokens_per_s")), "", ""),
        (
            synthetic("$ / 1k answered", emulated),
            _usd_or_unpriced(cost, "per_1k_answered_usd"),
            "",
            "",
        ),
        (synthetic("$ / 1k sent", emulated), _usd_or_unpriced(cost, "per_1k_sent_usd"), "", ""),
    ]
    spectrum_panels = [
        ("TTFT", [("service", hdr.get("ttft_service")), ("response", hdr.get("ttft_response"))]),
        ("TTLT", [("service", hdr.get("ttlt_service")), ("response", hdr.get("ttlt_response"))]),
        ("ITL (every gap)", [("ITL", hdr.get("itl"))]),
    ]
    cards += answer_cards(data)
    extra_tables = answer_tables(data) + [  # quality, and what later versions add
        (key.replace("_", " ").capitalize(), table(html_sections.without_hdr(value)))
        for key, value in data.items()
        if key not in KNOWN_MODEL and key not in ANSWER_KEYS
    ]
    return {
        "name": name,
        "short": _short(name),
        "anchor": anchor_of(name),
        "cards": cards,
        "flagged": flagged_alert(data),
        "spectrum": safe_svg(html_charts.percentile_spectrum(spectrum_panels)),
        "cdfs": safe_svg(html_charts.cdfs(spectrum_panels[:2])),
        "over_time": safe_svg(html_charts.latency_over_time(series, name)),
        "requests": table(requests),
        "tokens": table(
            {
                **{f"{k} tokens": v for k, v in data.get("tokens", {}).items()},
                "throughput": data.get("throughput"),
                "out of range": data.get("out_of_range"),
            }
        ),
        "cost": (
            table(html_sections.without_hdr(cost))
            if cost is not None
            else Markup('<span class="muted">unpriced</span>')
        ),
        "latency": table(_latency_matrix(latency)),
        "extra_tables": extra_tables,
    }


def _usd_or_unpriced(
    cost: CostSection | None, key: Literal["per_1k_answered_usd", "per_1k_sent_usd"]
) -> str:
    return "unpriced" if cost is None else fmt(cost.get(key))


def _pair(latency: LatencySection, metric: Literal["ttft", "ttlt"]) -> str:
    service = latency.get(metric, {}).get("service", {})
    return f"{fmt(service.get('p50'))} / {fmt(service.get('p99'))}"


def _latency_matrix(latency: LatencySection) -> dict[str, HistogramSummary]:
    rows: dict[str, HistogramSummary] = {}
    for label, read in LATENCY_ROWS.items():
        if (summary := read(latency)) is not None:
            rows[label] = summary
    return rows


def _series_columns(series: TimeSeriesSection) -> list[str]:
    columns = ["second", "sent", "completed", "in flight", "errors", "throttled", "out tokens"]
    columns += ["lag p99 ms"]
    for model in series.get("models", {}):
        columns += [f"{_short(model)} TTFT p50", f"{_short(model)} TTFT p99"]
    return columns


def _series_rows(series: TimeSeriesSection) -> list[list[str]]:
    sends = series.get("sends", [])
    count = len(sends)

    def at(values: list[Any] | None, i: int) -> Any:
        return values[i] if values is not None and i < len(values) else None

    flight = html_charts.in_flight(series)
    rows = []
    # A long run would make this table the bulk of the page: past MAX_SERIES_ROWS seconds it
    # shows every n-th second (report.json keeps them all).
    for i in range(0, count, math.ceil(count / MAX_SERIES_ROWS) if count else 1):
        row = [
            series.get("start_s", 0) + i,
            sends[i],
            at(series.get("completions"), i),
            at(flight, i),
            at(series.get("errors"), i),
            at(series.get("throttled"), i),
            at(series.get("output_tokens"), i),
            at(series.get("lag_ms", {}).get("p99"), i),
        ]
        for detail in series.get("models", {}).values():
            ttft = detail.get("ttft_ms", {})
            row += [at(ttft.get("p50"), i), at(ttft.get("p99"), i)]
        rows.append([fmt(v) for v in row])
    return rows


def _without_bulk(report: Report) -> dict[str, object]:
    """The report less what cannot be read as a table: HDR encodings and the long series."""
    copy = {k: v for k, v in report.items() if k != "timeseries"}
    copy["models"] = {
        name: {k: v for k, v in data.items() if k != "hdr"}
        for name, data in report.get("models", {}).items()
    }
    return copy


def _sweep_charts(sweep: Any) -> list[str]:
    """Best effort: for rows of numbers that share a rate-like key, one curve per metric."""
    groups = _sweep_groups(sweep)
    if not groups:
        return []
    x_key = next(
        (k for k in SWEEP_X_KEYS if all(k in row for rows in groups.values() for row in rows)),
        None,
    )
    if x_key is None:
        return []
    metrics: list[str] = []
    for rows in groups.values():
        for row in rows:
            metrics.extend(
                k
                for k, v in _flat(row).items()
                if k != x_key
                and k not in metrics
                and isinstance(v, int | float)
                and not isinstance(v, bool)
            )
    charts = []
    for metric in metrics[:12]:
        lines = {}
        for label, rows in groups.items():
            points: list[tuple[float, float]] = [
                (float(row[x_key]), float(y))
                for row in rows
                if isinstance(y := _flat(row).get(metric), int | float)
            ]
            if points:
                lines[label] = ([x for x, _ in points], [y for _, y in points])
        if lines:
            charts.append(html_charts.xy_curves(metric.replace("_", " "), x_key, lines))
    return charts


def _sweep_groups(sweep: Any) -> dict[str, list[dict[str, Any]]]:
    def rows_of(value: Any) -> list[dict[str, Any]] | None:
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            return value
        if isinstance(value, dict):
            for key in ("stages", "steps", "points", "ladder", "results"):
                if (found := rows_of(value.get(key))) is not None:
                    return found
        return None

    if (rows := rows_of(sweep)) is not None:
        return {"sweep": rows}
    if isinstance(sweep, dict):
        source = sweep.get("models", sweep)
        if isinstance(source, dict):
            groups = {k: r for k, v in source.items() if (r := rows_of(v)) is not None}
            return groups
    return {}


def _flat(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flat(value, name + "."))
        else:
            flat[name] = value
    return flat


def run_facts(run: RunSection) -> dict[str, Any]:
    """The facts of a run its page header shows: scenario, start, status, load, generator."""
    generator = run.get("generator", {})
    return {
        "scenario": run.get("scenario"),
        "started": run.get("started_at"),
        "status": run.get("status"),
        "load": _load_text(run.get("load", {})),
        "achieved req/s": generator.get("achieved_rps"),
        "lag p99 ms": generator.get("lag_ms", {}).get("p99"),
        "seed": run.get("seed"),
    }
