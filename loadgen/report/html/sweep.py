"""sweep.html: one self-contained page for a sweep, drawn from sweep.json alone (so `loadgen
report SWEEP_FOLDER --html` draws it again offline): per model, its stages against the rate
(throughput with its interval, goodput, TTFT; the knee), what bound it and the max_tokens
advice, the stage table with each stage's quota window and verdict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loadgen.report.html import charts as html_charts
from loadgen.report.html.page import anchor_of, page_environment, safe_svg
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
from loadgen.report.html.tables import fmt, percent

DEFAULT_THROUGHPUT_SHARE = 0.9  # sweep.min_throughput_share, for a document that lacks it
# A stage's verdict word (sweep.json's `verdict`) → the cell's colour.
VERDICT_CSS = {
    "saturated": "worse",
    "quota-bound": "worse",
    "misses SLOs": "worse",
    "meets SLOs": "better",
}

Cell = tuple[str, str, str]  # (column label, text, css classes)


def render_sweep(document: Mapping[str, Any]) -> str:
    """The HTML page for a sweep.json document ({"schema_version", "sweep"})."""
    summary = document["sweep"]
    settings = summary.get("settings", {})
    share = settings.get("min_throughput_share", DEFAULT_THROUGHPUT_SHARE)
    models = [_model(name, data, share) for name, data in summary.get("models", {}).items()]
    page = (
        page_environment()
        .get_template("sweep.html.j2")
        .render(
            summary=summary,
            models=models,
            overview=[
                _overview_row(name, data) for name, data in summary.get("models", {}).items()
            ],
            settings_text=_settings_text(settings, summary),
            share=f"{share:.0%}",
            growth=fmt(settings.get("ttft_growth")),
        )
    )
    return str(page)


def _overview_row(name: str, data: Mapping[str, Any]) -> list[Cell]:
    best = data.get("at_highest_slo") or {}
    return [
        ("model", name, "wrap"),
        ("stages", fmt(len(data.get("stages", []))), "num"),
        ("knee req/s", fmt(data.get("knee_rps")), "num"),
        ("highest good req/s", fmt(data.get("highest_slo_rps")), "num"),
        ("goodput req/s", fmt(best.get("goodput_rps")), "num"),
        ("RPM", fmt(best.get("requests_per_minute")), "num"),
        ("TPM", fmt(best.get("tokens_per_minute")), "num"),
        ("$ / hour", fmt(best.get("cost_per_hour_usd")), "num"),
        ("bound by", fmt(data.get("bound_by")), ""),
    ]


def _model(name: str, data: Mapping[str, Any], share: float) -> dict[str, Any]:
    stages = sorted(data.get("stages", []), key=lambda s: s["rate"])
    return {
        "name": name,
        "anchor": anchor_of(name),
        "slos": slo_sentence(dict(data)),
        "quota": quota_sentence(dict(data)),
        "bound": bound_sentence(dict(data)),
        "advice": advice_sentence(dict(data)),
        "stopped": data.get("stopped_because"),
        "chart": safe_svg(html_charts.sweep_stages(stages, data.get("knee_rps"), share)),
        "stages": [_stage_row(stage, data.get("knee_rps")) for stage in stages],
    }


def _stage_row(stage: Mapping[str, Any], knee: float | None) -> list[Cell]:
    verdict_css = VERDICT_CSS.get(verdict_word(dict(stage)), "quiet")
    rate = fmt(stage["rate"]) + (" (knee)" if knee is not None and stage["rate"] == knee else "")
    return [
        ("req/s", rate, "num"),
        ("s", fmt(stage.get("duration_s")), "num"),
        ("answered", fmt(stage.get("completed")), "num"),
        ("throughput (95 % interval)", throughput_text(dict(stage)), "num"),
        ("goodput", fmt(stage.get("goodput_rps")), "num"),
        ("TTFT p50 ms (response)", fmt(stage.get("ttft_response_p50_ms")), "num"),
        ("TTFT p95 ms", fmt(stage.get("ttft_p95_ms")), "num"),
        ("errors", percent(stage.get("error_rate")), "num"),
        ("throttled", percent(stage.get("throttle_rate")), "num"),
        # The window rule goes in the verdict's cell: one more column would not fit 1,000 px.
        ("verdict", _verdict_and_window(stage), f"wrap {verdict_css}"),
    ]


def _verdict_and_window(stage: Mapping[str, Any]) -> str:
    """The verdict with its why, and the rule the quota was judged by (a "latency only"
    verdict says so itself)."""
    verdict, rule = stage_verdict(dict(stage)), window_cell(dict(stage))
    return verdict if rule in ("", "latency only") else f"{verdict} (quota window: {rule})"


def _settings_text(settings: Mapping[str, Any], summary: Mapping[str, Any]) -> str:
    parts = []
    if settings.get("rates"):
        parts.append("rates " + ", ".join(fmt(r) for r in settings["rates"]) + " req/s")
    else:
        parts.append(
            f"searched from {fmt(settings.get('start_rate'))} req/s, x{fmt(settings.get('factor'))}"
            f" up to {fmt(settings.get('max_rate'))} req/s"
        )
    if settings.get("stage_duration") is not None:
        parts.append(f"stages of {fmt(settings['stage_duration'])} s")
    if summary.get("min_stage_requests") is not None:
        parts.append(f"at least {fmt(summary['min_stage_requests'])} requests each")
    if settings.get("stage_warmup"):
        parts.append(f"after {fmt(settings['stage_warmup'])} s warmup")
    return ", ".join(parts)
