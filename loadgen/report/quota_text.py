"""The `quota` section in words and rows, for the console summary and report.html."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loadgen.report.schema import QuotaLimitUse, QuotaModelSection, QuotaSection

POOL_NAMES = {"in_region": "on-demand", "cross_region": "cross-Region", "global": "global"}
LIMIT_UNITS = {"tpm": "tokens/min", "tpd": "tokens/day", "rpm": "requests/min"}


def _minute(minute: int | None) -> str:
    return "never" if minute is None else f"minute {minute + 1} ({minute}:00-{minute + 1}:00)"


def _limit_text(name: str, use: QuotaLimitUse) -> str:
    free = 100 * use["headroom_share"]
    text = f"{name.upper()} {use['limit']:,} ({use['source']}) {free:.0f} % free"
    if use["ran_out_minute"] is not None:
        text += f", ran out in {_minute(use['ran_out_minute'])}"
    return text


def quota_line(name: str, data: QuotaModelSection) -> str:
    """One model's quota use on one line: what to ask for, and how close the run came."""
    line = (
        f"quota: {name} ({POOL_NAMES[data['pool']]}, output x{data['burndown']:g}): peak "
        f"{data['peak_reserved_per_minute']:,} tokens/min reserved, "
        f"{data['settled_tokens']:,} settled"
    )
    limits = [_limit_text(limit, use) for limit, use in data["limits"].items()]
    return "; ".join([line, *limits])


def quota_lines(section: QuotaSection, names: Mapping[str, str]) -> list[str]:
    return [
        quota_line(names.get(model_id, model_id), data)
        for model_id, data in section["models"].items()
        if data["requests"] or data["throttled"]
    ]


def quota_rows(section: QuotaSection) -> list[dict[str, Any]]:
    """One row per model for a table: the run's figures, then each quota given."""
    rows = []
    for model_id, data in section["models"].items():
        row: dict[str, Any] = {
            "model": model_id,
            "pool": POOL_NAMES[data["pool"]],
            "output burndown": data["burndown"],
            "max_tokens": data["max_tokens"],
            "requests": data["requests"],
            "throttled": data["throttled"],
            "reserved": data["reserved_tokens"],
            "settled": data["settled_tokens"],
            "peak reserved / min": data["peak_reserved_per_minute"],
        }
        for name, use in data["limits"].items():
            row[f"{name.upper()} ({use['source']})"] = use["limit"]
            row[f"{name.upper()} headroom"] = use["headroom"]
            row[f"{name.upper()} ran out"] = (
                "-" if use["ran_out_minute"] is None else f"minute {use['ran_out_minute'] + 1}"
            )
        rows.append(row)
    return rows


def quota_minute_rows(section: QuotaSection) -> list[dict[str, Any]]:
    """Every model's minutes, one row each."""
    return [
        {
            "model": model_id,
            "minute": minute["minute"] + 1,
            "requests": minute["requests"],
            "throttled": minute["throttled"],
            "reserved": minute["reserved_tokens"],
            "settled": minute["settled_tokens"],
            "peak held": minute["peak_held_tokens"],
        }
        for model_id, data in section["models"].items()
        for minute in data["minutes"]
    ]
