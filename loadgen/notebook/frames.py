"""A run's figures as pandas DataFrames: its samples, one row per model, the trade-off the
verdict weighs, each requirement met or missed, and a comparison of two runs.

pandas is an optional extra (`pip install 'loadgen[notebook]'`): this module is imported when
a table is asked for (optional.py), never by `import loadgen.notebook`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from loadgen.compare.runs import Comparison
from loadgen.core import fast_json
from loadgen.core.sample import SampleLine
from loadgen.notebook.optional import pandas_needed
from loadgen.report.schema import ModelSection, Report
from loadgen.report.verdict import PARETO_AXES, pareto_front

with pandas_needed():  # the notebook extra: without it, an ImportError that says so
    import pandas as pd


def samples_frame(path: Path, *, warmup: bool) -> pd.DataFrame:
    """samples.jsonl, one row per request and one column per field, in file order; warmup
    requests only when `warmup` (the report's figures leave them out).

    Each column has the type samples.jsonl declares for it (loadgen/core/sample.py
    SampleLine), the same in every run: integers (instants and durations in µs, token
    counts) as nullable Int64, so that a request that never got a first token is <NA> and the
    others stay exact; flags as boolean; decimals as float64 (NaN: none); text as string;
    the per-gap lists (itl_us) as Python lists. A field the declaration lacks (a file of
    another loadgen version) gets the type of its values."""
    with path.open("rb") as handle:
        lines = [fast_json.loads(line) for line in handle if line.strip()]
    if not warmup:
        lines = [line for line in lines if not line.get("warmup")]
    keys = dict.fromkeys(key for line in lines for key in line)
    declared = _declared_dtypes()
    return _columns_frame(
        {key: [line.get(key) for line in lines] for key in keys},
        declared,
        index=None,
    )


@cache
def _declared_dtypes() -> dict[str, str]:
    return {key: _dtype_of_hint(hint) for key, hint in get_type_hints(SampleLine).items()}


def _dtype_of_hint(hint: Any) -> str:
    members = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
    kinds = {kind for kind in members if kind is not type(None)}
    if kinds == {bool}:
        return "boolean"
    if kinds == {int}:
        return "Int64"
    if kinds and kinds <= {int, float}:
        return "float64"
    if all(kind is str or get_origin(kind) is Literal for kind in kinds):
        return "string"
    return "object"


def _dtype_of_values(values: list[Any]) -> str:
    """A column's type from its values: a column of nothing but nulls is a figure not
    measured (float64, NaN)."""
    kinds = {type(value) for value in values if value is not None}
    if kinds == {bool}:
        return "boolean"
    if kinds == {int}:
        return "Int64"
    if kinds <= {int, float}:
        return "float64"
    if kinds == {str}:
        return "string"
    return "object"


def _columns_frame(
    columns: Mapping[str, list[Any]], declared: Mapping[str, str], index: list[str] | None
) -> pd.DataFrame:
    series = {
        key: pd.Series(
            [math.nan if value is None else value for value in values]
            if (kind := declared.get(key) or _dtype_of_values(values)) == "float64"
            else values,
            dtype=kind,
            index=index,
        )
        for key, values in columns.items()
    }
    length = len(index) if index is not None else len(next(iter(columns.values()), []))
    return pd.DataFrame(series, index=index if index is not None else pd.RangeIndex(length))


def stats_frame(report: Report) -> pd.DataFrame:
    """One row per model: requests, errors, latency (service time, ms), tokens, throughput,
    cost and quality, as the report has them."""
    rows = {model: _model_row(section) for model, section in report["models"].items()}
    return _frame(rows)


def _model_row(section: ModelSection) -> dict[str, Any]:
    requests = section["requests"]
    latency = section["latency_ms"]
    tokens = section["tokens"]
    row: dict[str, Any] = {
        "sent": requests["sent"],
        "ok": requests["ok"],
        **{f"errors_{kind}": count for kind, count in requests["errors"].items()},
        "dropped": requests["dropped"],
        "error_rate": requests["error_rate"],
        "throttle_rate": requests["throttle_rate"],
    }
    for metric in ("ttft", "ttlt"):
        service = latency[metric]["service"]
        row.update({f"{metric}_{stat}_ms": service[stat] for stat in ("p50", "p95", "p99")})
    row["itl_p50_ms"] = latency["itl"]["p50"]
    row["itl_p99_ms"] = latency["itl"]["p99"]
    row["tpot_p50_ms"] = latency["tpot"]["p50"]
    row["input_tokens_mean"] = tokens["input"]["mean"]
    row["output_tokens_mean"] = tokens["output"]["mean"]
    row["requests_per_s"] = section["throughput"]["requests_per_s"]
    row["output_tokens_per_s"] = section["throughput"]["output_tokens_per_s"]
    cost = section["cost"]
    row["cost_usd"] = None if cost is None else cost["total_usd"]
    # Every per-request figure of the cost section (per 1,000 sent, per answered...), under
    # the report's own name for it, so that this table says what the report says.
    for key, value in (cost or {}).items():
        if key.startswith("per_") and not isinstance(value, dict):
            row[f"cost_{key}" if key.endswith("_usd") else f"cost_{key}_usd"] = value
    quality = section.get("quality")
    row["quality_mean"] = None if quality is None else quality["score"]["mean"]
    return row


def tradeoff_frame(report: Report) -> pd.DataFrame:
    """One row per model: the figures the verdict weighs (quality, speed, errors, cost), how
    many requirements it met and missed, and whether it is on the Pareto front."""
    verdict = report.get("verdict")
    if verdict is None:  # a merged report has none: the Pareto front alone, from its figures
        _, front = pareto_front(report["models"])
        rows: dict[str, dict[str, Any]] = {
            model: {name: read(section) for name, read, _ in PARETO_AXES}
            for model, section in report["models"].items()
        }
    else:
        front = verdict["pareto"]["front"]
        rows = {
            model: {key: value for key, value in figures.items() if key != "requirements"}
            for model, figures in verdict["models"].items()
        }
    for model, row in rows.items():
        row["pareto"] = model in front
    return _frame(rows)


def requirements_frame(report: Report) -> pd.DataFrame:
    """One row per model and requirement of the scenario: the figure measured, the limit,
    and whether it was met."""
    verdict = report.get("verdict")
    judged = {} if verdict is None else verdict["models"]
    results = [
        {
            "model": model,
            "requirement": result["check"],
            "measured": result["measured"],
            "limit": result["limit"],
            "unit": result["unit"],
            "met": result["passed"],
            "reason": result["reason"],
        }
        for model, figures in judged.items()
        for result in figures["requirements"]
    ]
    columns = ["model", "requirement", "measured", "limit", "unit", "met", "reason"]
    frame = pd.DataFrame(results, columns=columns)
    text = {column: "string" for column in ("model", "requirement", "unit", "reason")}
    return frame.astype({**text, "measured": "float64", "limit": "float64", "met": "boolean"})


def comparison_frame(comparison: Comparison) -> pd.DataFrame:
    """One row per model and metric: base, new, the change with its confidence interval (or
    p-value), and the verdict; `attrs["notes"]` holds what the comparison noted."""
    rows = [
        {
            "model": row.model,
            "metric": row.metric,
            "unit": row.unit,
            "base": row.base,
            "new": row.new,
            "change": row.change,
            "change_relative": _finite(row.change_relative),
            "ci_low": None if row.ci is None else row.ci[0],
            "ci_high": None if row.ci is None else row.ci[1],
            "p_value": row.p_value,
            "verdict": row.verdict,
            "reason": row.reason,
        }
        for row in comparison.rows
    ]
    frame = pd.DataFrame(rows)
    numeric = ["base", "new", "change", "change_relative", "ci_low", "ci_high", "p_value"]
    text = ["model", "metric", "unit", "verdict", "reason"]
    frame = frame.astype(
        {
            **{column: "float64" for column in numeric if column in frame},
            **{column: "string" for column in text if column in frame},
        }
    )
    frame.attrs["notes"] = list(comparison.notes)
    frame.attrs["base"], frame.attrs["new"] = comparison.base, comparison.new
    return frame


def _finite(value: float | None) -> float | None:
    """A change from 0 has no relative size (inf): left empty."""
    return value if value is None or math.isfinite(value) else None


def _frame(rows: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Rows by model id: counts as Int64, figures as float64 (NaN where the report has null),
    flags as boolean."""
    keys = dict.fromkeys(key for row in rows.values() for key in row)
    models = list(rows)
    frame = _columns_frame(
        {key: [rows[model].get(key) for model in models] for key in keys}, {}, index=models
    )
    frame.index.name = "model"
    return frame
