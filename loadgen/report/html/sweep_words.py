"""A sweep (sweep.json's `sweep` object) in words: the sentences and cells that the console
(loadgen/capacity/console.py) and sweep.html both show, so they say the same thing."""

from __future__ import annotations

from typing import Any

from loadgen.report.html.tables import fmt, percent


def slo_sentence(data: dict[str, Any]) -> str:
    """What the highest good rate means for this model: SLOs met up to it, or (no SLOs given)
    the endpoint kept up to it."""
    best, slos = data["highest_slo_rps"], data.get("slos", [])
    if not slos:
        if best is None:
            return "no SLOs given; no stage kept up"
        return f"no SLOs given; kept up to {fmt(best)} req/s"
    checks = ", ".join(slos)
    if best is None:
        return f"no stage met the SLOs ({checks})"
    return f"meets the SLOs ({checks}) up to {fmt(best)} req/s"


def quota_sentence(data: dict[str, Any]) -> str | None:
    """The quota the results are set against, and the share of it the highest good rate uses."""
    quota, best = data["quota"], data["at_highest_slo"] or {}
    parts = [
        f"{fmt(quota[key])} {label}"
        for key, label in (("rpm", "RPM"), ("tpm", "TPM"))
        if quota.get(key)
    ]
    if not parts:
        return None
    text = f"quota ({quota.get('source') or 'given'}): {' / '.join(parts)}"
    shares = [
        f"{percent(best[key])} of its {label}"
        for key, label in (("quota_rpm_share", "RPM"), ("quota_tpm_share", "TPM"))
        if best.get(key) is not None
    ]
    if shares and data["highest_slo_rps"] is not None:
        text += f"; {fmt(data['highest_slo_rps'])} req/s uses {', '.join(shares)}"
    if data.get("quota_limited_rps") is not None:
        text += f"; the quota allows {fmt(data['quota_limited_rps'])} req/s"
    if any((best.get(key) or 0) > 1 for key in ("quota_rpm_share", "quota_tpm_share")):
        # Only a sweep.json before version 3, whose stages were not judged on quota windows.
        text += (
            "; that is more than the quota: a stage shorter than a minute cannot show a "
            "per-minute quota"
        )
    return text


# sweep.json's `bound_by`, in words.
BOUND_WORDS = {
    "quota": "the quota",
    "throughput": "the endpoint's throughput",
    "generator": "the load generator",
    "latency": "latency (an SLO missed)",
    "slo": "an SLO",
}


def bound_sentence(data: dict[str, Any]) -> str | None:
    """What bound the model above its highest good rate, the first reason of the stage that
    showed it, and the window rule it was judged by; None while no stage showed a bound."""
    bound = data.get("bound_by")
    if bound is None:
        return None
    at, best = data.get("bound_at_rps"), data.get("highest_slo_rps")
    where = "at every rate tried" if best is None else f"above {fmt(best)} req/s"
    text = f"bound by {BOUND_WORDS.get(bound, bound)} {where}"
    stage = next((s for s in data.get("stages", []) if s["rate"] == at), None)
    if stage is None:
        return text
    why = _reasons(stage)
    if why and why[0].startswith("at "):  # the quota's reasons name the rate themselves
        text += f" ({why[0]})"
    else:
        text += f" ({fmt(at)} req/s: {why[0]})" if why else f" ({fmt(at)} req/s)"
    if data.get("window_rule"):
        text += f"; quota window: {data['window_rule']}"
    return text


def advice_sentence(data: dict[str, Any]) -> str | None:
    """The max_tokens advice (capacity/max_tokens_advice.py), as sweep.json keeps it."""
    advice = data.get("max_tokens_advice")
    return None if not advice else str(advice["text"])


def window_cell(stage: dict[str, Any]) -> str:
    """The rule the stage's quota was judged by, short; empty before sweep.json version 3."""
    return str(stage.get("window_rule") or "")


def throughput_text(stage: dict[str, Any]) -> str:
    """Throughput with its 95 % interval, e.g. `9.8 (8.1-11.7)`."""
    interval = stage.get("throughput_interval_rps")
    shown = fmt(stage.get("throughput_rps"))
    if interval is None:
        return shown
    return f"{shown} ({fmt(interval[0])}-{fmt(interval[1])})"


def stage_verdict(stage: dict[str, Any]) -> str:
    """The stage's verdict with its why, as sweep.json keeps it; and the window rule's note
    where it could not judge the quota (latency only)."""
    verdict = verdict_word(stage)
    window = stage.get("quota_window") or {}
    if verdict == "quota-bound" or stage.get("saturated"):
        return f"{verdict}: " + "; ".join(_reasons(stage))
    text = verdict
    if stage.get("failed_checks"):
        text = f"{verdict} (" + ", ".join(stage["failed_checks"]) + ")"
    return text if not window.get("note") else f"{text}; {window['note']}"


def _reasons(stage: dict[str, Any]) -> list[str]:
    """Why the stage was not good: over the quota, saturated, then the checks that failed."""
    window = stage.get("quota_window") or {}
    return [
        *window.get("reasons", []),
        *stage.get("saturation_reasons", []),
        *stage.get("failed_checks", []),
    ]


def verdict_word(stage: dict[str, Any]) -> str:
    """The stage's verdict word; sweep.json version 1 kept none: the same one, from what it
    kept."""
    if stage.get("verdict"):
        return str(stage["verdict"])
    if stage.get("saturated"):
        return "saturated"
    passed = stage.get("thresholds_passed")
    if passed is None:
        return "kept up; no SLOs given"
    return "meets SLOs" if passed else "misses SLOs"
