"""Dedicated HTML tables for report sections that read better as one row per model:
the quality study's verdict and the streaming vs non-streaming comparison."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from loadgen.report.html.tables import fmt, percent, table
from loadgen.report.schema import StreamingComparison, VerdictSection

VERDICT_COLUMNS = {
    "quality_mean": "quality mean",
    "quality_p10": "quality p10",
    "ttft_p50_ms": "TTFT p50 ms",
    "ttft_p95_ms": "TTFT p95 ms",
    "ttlt_p50_ms": "TTLT p50 ms",
    "ttlt_p95_ms": "TTLT p95 ms",
    "output_tokens_per_s": "out tok/s",
    "error_rate": "error rate",
    "cost_per_1k_answered_usd": "$ / 1k emails",  # one answered request per email
}


def verdict(section: VerdictSection, trustworthy: bool = True, emulated: bool = False) -> Markup:
    """One row per model: every requirement met or missed with its measured value, the
    figures behind it, and whether the model is on the Pareto front. On a run that is not
    trustworthy (loadgen/report/trust.py) no model meets or misses anything; on an emulated
    run every verdict and cost is marked synthetic."""
    synthetic = " (synthetic)" if emulated else ""
    models = section.get("models") or {}
    checks = list(section.get("requirements") or [])
    front = set((section.get("pareto") or {}).get("front") or [])
    columns = [
        f"{label}{synthetic}" if key.startswith("cost") else label
        for key, label in VERDICT_COLUMNS.items()
    ]
    head = ["model", f"verdict{synthetic}", *checks, "Pareto front", *columns]
    rows = []
    for name, data in models.items():
        by_check = {r.get("check"): r for r in data.get("requirements") or []}
        cells = [Markup("<th>{}</th>").format(name)]
        meets = data.get("meets_all")
        if not trustworthy:
            css, said = "fail", "not trustworthy"
        else:
            css = "pass" if meets else "fail"
            said = "meets all" if meets else f"misses {data.get('missed', '?')}"
        cells.append(
            Markup('<td><span class="badge {}">{}</span>{}</td>').format(css, said, synthetic)
        )
        for check in checks:
            result = by_check.get(check)  # .get throughout: a partial section renders too
            measured = None if result is None else result.get("measured")
            unit = None if result is None else result.get("unit")
            reason = None if result is None else result.get("reason")
            passed = result is not None and bool(result.get("passed"))
            text = reason or f"{fmt(measured)} {unit or ''}".strip()
            css = "better" if passed else "worse"
            mark = "✓" if passed else "✗"
            cells.append(Markup('<td class="num {}">{} {}</td>').format(css, mark, text))
        cells.append(Markup("<td>{}</td>").format("yes" if name in front else "no"))
        for key in VERDICT_COLUMNS:
            value = data.get(key)
            shown = percent(value) if key == "error_rate" else fmt(value)
            cells.append(Markup('<td class="num">{}</td>').format(shown))
        rows.append(Markup("<tr>{}</tr>").format(Markup("").join(cells)))
    header = Markup("").join(Markup("<th>{}</th>").format(h) for h in head)
    pareto = section.get("pareto") or {}
    meeting = ", ".join(section.get("meeting_all") or []) or "none"
    if not trustworthy:
        meeting = "not trustworthy (see the trust line at the top)"
    notes = Markup(
        '<p class="muted">Meeting every requirement{}: {}. Pareto front over {}{}: {}.</p>'
    ).format(
        synthetic,
        meeting,
        ", ".join(pareto.get("axes") or []) or "-",
        synthetic,
        ", ".join(pareto.get("front") or []) or "none",
    )
    return Markup(
        '<table class="grid"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>{}'
    ).format(header, Markup("").join(rows), notes)


def streaming(section: StreamingComparison) -> Markup:
    """Each model twice, streaming and not, side by side; the rest of the section below."""
    rows: list[dict[str, Any]] = []
    for entry in section.get("models") or []:
        for figures, label in (
            (entry.get("streaming"), section.get("streaming_api") or "streaming"),
            (entry.get("non_streaming"), section.get("non_streaming_api") or "non-streaming"),
        ):
            rows.append({"model": entry.get("model"), "API": label, **(figures or {})})
        rows[-1]["TTLT p50 difference ms"] = entry.get("ttlt_p50_difference_ms")
    rest = {
        k: without_hdr(v)
        for k, v in section.items()
        if k not in ("models", "streaming_api", "non_streaming_api")
    }
    return Markup("{}{}").format(table(rows), table(rest) if rest else "")


def without_hdr(value: Any) -> Any:
    """HDR encodings are for machines: leave them out of tables, at any depth."""
    if isinstance(value, dict):
        return {k: without_hdr(v) for k, v in value.items() if k != "hdr"}
    if isinstance(value, list):
        return [without_hdr(v) for v in value]
    return value
