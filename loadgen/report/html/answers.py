"""A model's answer sections on report.html: cards for the figures a reader looks for first
(cache hit rate, TTFA), an alert for flagged outcomes, and a table per section the run had.
A run without caching, reasoning, tools, tiers or conversations gets none of them."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from loadgen.report.answer_text import flagged_text, stop_reasons_text
from loadgen.report.html.sections import without_hdr
from loadgen.report.html.tables import fmt, percent, table
from loadgen.report.schema import ModelSection

# The model section's keys shown here, not as generic tables.
ANSWER_KEYS = frozenset(
    {"stop_reasons", "outcomes", "service_tiers", "cache", "reasoning", "tool_use", "turns"}
)
TITLES = {
    "cache": "Prompt cache",
    "reasoning": "Reasoning",
    "tool_use": "Tool use",
    "service_tiers": "Served by tier",
}


def answer_cards(data: ModelSection) -> list[tuple[str, str, str, str]]:
    """(label, value, unit, class) cards, as the page's other cards."""
    cards = []
    if (cache := data.get("cache")) is not None:
        cards.append(("cache hit rate", percent(cache["hit_rate"]), "of input tokens", ""))
    ttfa = data.get("latency_ms", {}).get("ttfa")
    if data.get("reasoning") is not None and ttfa is not None:
        cards.append(("TTFA p50 / p99", f"{fmt(ttfa['p50'])} / {fmt(ttfa['p99'])}", "ms", ""))
    if (flagged := data.get("outcomes")) is not None:
        count = sum(
            flagged[name]["count"]
            for name in ("guardrail_intervened", "content_filtered", "truncated")
        )
        if count:
            cards.append(("flagged answers", fmt(count), "see below", "flagged"))
    return cards


def flagged_alert(data: ModelSection) -> str | None:
    """The flagged outcomes in a sentence, for the alert above the figures."""
    return flagged_text(data)


def answer_tables(data: ModelSection) -> list[tuple[str, Markup]]:
    """(title, table) for each answer section the model has."""
    tables: list[tuple[str, Markup]] = []
    if stop_reasons_text(data) is not None:
        tables.append(("Stop reasons", table(data.get("stop_reasons") or {})))
    if flagged_text(data) is not None:
        tables.append(("Outcomes", table(data.get("outcomes"))))
    for key, title in TITLES.items():
        if (value := data.get(key)) is not None:
            tables.append((title, table(without_hdr(value))))
    turns = data.get("turns")
    if turns:
        rows: list[dict[str, Any]] = [
            {"turn": turn, **without_hdr(figures)}
            for turn, figures in sorted(turns.items(), key=lambda item: int(item[0]))
        ]
        tables.append(("Conversation turns", table(rows)))
    return tables
