"""report.html: one self-contained page (inline SVG charts, no scripts) built from report.json.

`render` needs nothing but the report dict, so a saved run can be rendered again offline;
`render_comparison` puts two runs side by side. Sections that later versions or other
commands add to the report (quality, verdict, sweep, ...) are shown when present.
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
from loadgen.report.html.tables import fmt, percent, table
from loadgen.report.schema import (
    REPORTED_ERRORS,
    HdrName,
    HistogramSummary,
    LatencySection,
    LoadInfo,
    ModelSection,
    Report,
    RunSection,
    TimeSeriesSection,
)

KNOWN_TOP = {"schema_version", "run", "models", "comparison", "timeseries"}
KNOWN_MODEL = {"requests", "latency_ms", "tokens", "throughput", "cost", "out_of_range", "hdr"}
# Optional sections, in the order they are shown; any other unknown key follows them.
EXTRA_TITLES = {
    "verdict": "Verdict",
    "quality": "Quality",
    "thresholds": "Thresholds",
    "sweep": "Sweep",
    "streaming_comparison": "Streaming vs non-streaming",
    "streaming": "Streaming vs non-streaming",
}
COMPARISON_COLUMNS = {
    "cost_per_1k_requests_usd": "$ / 1k req",
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
    "schedule lag": lambda latency: latency.get("schedule_lag"),
    "client prep": lambda latency: latency.get("client_prep"),
    "pool wait": lambda latency: latency.get("pool_wait"),
}
# (title, histogram) of the charts that overlay the models, or the two runs compared.
OVERLAID: tuple[tuple[str, HdrName], ...] = (("TTFT", "ttft_service"), ("TTLT", "ttlt_service"))
SWEEP_X_KEYS = ("rate", "target_rps", "offered_rps", "rps", "concurrency")
LAG_LIMIT_MS = 10.0
MAX_SERIES_ROWS = 300


def _environment() -> Environment:
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
    page = (
        _environment()
        .get_template("report.html.j2")
        .render(
            run=run,
            load_text=_load_text(run.get("load", {})),
            comparison=_comparison(report.get("comparison", [])),
            total_cost=total_cost,
            overlay=_safe(overlay),
            extras=_extras(report),
            charts={
                "throughput": _safe(
                    html_charts.throughput(series, run.get("generator", {}).get("target_rps"))
                ),
                "errors": _safe(html_charts.error_timeline(series)),
                "lag": _safe(html_charts.schedule_lag(series, lag)),
            },
            lag_limit=fmt(LAG_LIMIT_MS),
            models=[_model(name, data, series) for name, data in models.items()],
            series_columns=_series_columns(series),
            series_step=math.ceil(len(series.get("sends", [])) / MAX_SERIES_ROWS) or 1,
            series_rows=_series_rows(series),
            everything=table(html_sections.without_hdr(_without_bulk(report))),
        )
    )
    return str(page)


def render_comparison(base: Report, new: Report) -> str:
    """The HTML page that puts two runs side by side: figures, changes and overlaid charts."""
    models = []
    base_models, new_models = base.get("models", {}), new.get("models", {})
    for name in [m for m in new_models if m in base_models]:
        old, now = base_models[name], new_models[name]
        panels = [
            (
                f"{title} service",
                [("base", old.get("hdr", {}).get(key)), ("new", now.get("hdr", {}).get(key))],
            )
            for title, key in OVERLAID
        ]
        models.append(
            {
                "name": name,
                "anchor": _anchor(name),
                "rows": _change_rows(old, now),
                "spectrum": _safe(html_charts.percentile_spectrum(panels)),
                "cdfs": _safe(html_charts.cdfs(panels)),
            }
        )
    page = (
        _environment()
        .get_template("comparison.html.j2")
        .render(
            base=base["run"],
            new=new["run"],
            models=models,
            only_base=[m for m in base_models if m not in new_models],
            only_new=[m for m in new_models if m not in base_models],
            runs=table(
                {
                    "base": _run_facts(base["run"]),
                    "new": _run_facts(new["run"]),
                }
            ),
        )
    )
    return str(page)


def write_html(html: str, path: Path) -> Path:
    """Write aside, then rename over: a reader never sees half a page."""
    write_text_atomically(path, html)
    return path


def _safe(svg: str | None) -> Markup | None:
    return None if svg is None else Markup(svg)  # our own matplotlib output: trusted


def _anchor(name: str) -> str:
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


def _comparison(rows: Sequence[Mapping[str, object]]) -> dict[str, Any]:
    """The models side by side, with any column another command added to the rows."""
    keys: list[str] = []
    for row in rows:
        keys.extend(k for k in row if k != "model" and k not in keys)

    def cell(key: str, value: Any) -> str:
        if key.endswith("_rate") and isinstance(value, int | float):
            return percent(value)
        if key == "cost_per_1k_requests_usd" and value is None:
            return "unpriced"
        return fmt(value)

    return {
        "columns": [COMPARISON_COLUMNS.get(k, k.replace("_", " ")) for k in keys],
        "rows": [
            {"model": row.get("model"), "cells": [cell(k, row.get(k)) for k in keys]}
            for row in rows
        ],
    }


def _extras(report: Report) -> list[dict[str, Any]]:
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
        if key == "verdict" and isinstance(verdict, dict):
            shown = html_sections.verdict(verdict)
        elif key == "streaming_comparison" and isinstance(streaming, dict):
            shown = html_sections.streaming(streaming)
        else:
            shown = table(html_sections.without_hdr(value))
        extras.append(
            {
                "id": f"extra-{_anchor(key)}",
                "title": EXTRA_TITLES.get(key, key.replace("_", " ").capitalize()),
                "table": shown,
                "charts": [_safe(c) for c in charts],
            }
        )
    return extras


def _model(name: str, data: ModelSection, series: TimeSeriesSection) -> dict[str, Any]:
    hdr = data.get("hdr", {})
    requests = data.get("requests", {})
    latency = data.get("latency_ms", {})
    errors = requests.get("errors", {})
    others = sum(errors.get(e, 0) for e in REPORTED_ERRORS if e != "throttled")
    cost = data.get("cost")
    cards = [
        ("sent", fmt(requests.get("sent")), ""),
        ("ok", fmt(requests.get("ok")), ""),
        ("throttled", fmt(errors.get("throttled")), ""),
        ("other errors", fmt(others), ""),
        ("TTFT p50 / p99", _pair(latency, "ttft"), "ms"),
        ("TTLT p50 / p99", _pair(latency, "ttlt"), "ms"),
        ("output tokens/s", fmt(data.get("throughput", {}).get("output_tokens_per_s")), ""),
        ("$ / 1k requests", "unpriced" if cost is None else fmt(cost.get("per_1k_requests")), ""),
    ]
    spectrum_panels = [
        ("TTFT", [("service", hdr.get("ttft_service")), ("response", hdr.get("ttft_response"))]),
        ("TTLT", [("service", hdr.get("ttlt_service")), ("response", hdr.get("ttlt_response"))]),
        ("ITL (every gap)", [("ITL", hdr.get("itl"))]),
    ]
    extra_tables = [  # quality, and what later versions add
        (key.replace("_", " ").capitalize(), table(html_sections.without_hdr(value)))
        for key, value in data.items()
        if key not in KNOWN_MODEL
    ]
    return {
        "name": name,
        "short": _short(name),
        "anchor": _anchor(name),
        "cards": cards,
        "spectrum": _safe(html_charts.percentile_spectrum(spectrum_panels)),
        "cdfs": _safe(html_charts.cdfs(spectrum_panels[:2])),
        "over_time": _safe(html_charts.latency_over_time(series, name)),
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


def _run_facts(run: RunSection) -> dict[str, Any]:
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


# Per metric: where it is in a model's report, and whether a higher value is better.
Stat = Literal["p50", "p90", "p95", "p99"]


def _timing(
    metric: Literal["ttft", "ttlt"], stat: Stat, side: Literal["service", "response"] = "service"
) -> Callable[[ModelSection], float | None]:
    return lambda data: data.get("latency_ms", {}).get(metric, {}).get(side, {}).get(stat)


def _gaps(metric: Literal["itl", "tpot"], stat: Stat) -> Callable[[ModelSection], float | None]:
    return lambda data: data.get("latency_ms", {}).get(metric, {}).get(stat)


def _cost_per_1k(data: ModelSection) -> float | None:
    cost = data.get("cost")
    return None if cost is None else cost.get("per_1k_requests")


# Per metric: its reader (.get: a figure one of the runs lacks is shown as missing), and
# whether a higher value is better.
CHANGE_METRICS: list[tuple[str, Callable[[ModelSection], float | None], bool]] = [
    ("TTFT p50 ms", _timing("ttft", "p50"), False),
    ("TTFT p90 ms", _timing("ttft", "p90"), False),
    ("TTFT p99 ms", _timing("ttft", "p99"), False),
    ("TTFT p99 response ms", _timing("ttft", "p99", "response"), False),
    ("TTLT p50 ms", _timing("ttlt", "p50"), False),
    ("TTLT p99 ms", _timing("ttlt", "p99"), False),
    ("ITL p50 ms", _gaps("itl", "p50"), False),
    ("ITL p99 ms", _gaps("itl", "p99"), False),
    ("TPOT p50 ms", _gaps("tpot", "p50"), False),
    ("error rate", lambda data: data.get("requests", {}).get("error_rate"), False),
    ("throttle rate", lambda data: data.get("requests", {}).get("throttle_rate"), False),
    ("output tokens/s", lambda data: data.get("throughput", {}).get("output_tokens_per_s"), True),
    ("ok req/s", lambda data: data.get("throughput", {}).get("ok_per_s"), True),
    ("$ / 1k requests", _cost_per_1k, False),
]


def _change_rows(old: ModelSection, new: ModelSection) -> list[dict[str, Any]]:
    rows = []
    for label, read, higher_is_better in CHANGE_METRICS:
        before, after = read(old), read(new)
        change = css = ""
        if before is not None and after is not None:
            delta = after - before
            change = f"{delta:+.4g}"
            if before:
                change += f" ({delta / before:+.1%})"
            if delta:
                css = "better" if (delta > 0) == higher_is_better else "worse"
        as_text = percent if label.endswith("rate") else fmt
        rows.append(
            {
                "label": label,
                "base": as_text(before),
                "new": as_text(after),
                "change": change,
                "css": css,
            }
        )
    return rows
