"""Old prices are said to be old: once before a run (preflight), and in its notes."""

from __future__ import annotations

from datetime import date

from loadgen.cost.price_age import age_days, is_stale, old_prices_warning, stale_price_notes
from loadgen.cost.pricing import DEFAULT_REGION, PriceBook, ResolvedPrice

NOVA_LITE = "amazon.nova-lite-v1:0"  # as of 2025-07-20
HAIKU_45 = "global.anthropic.claude-haiku-4-5-20251001-v1:0"  # as of 2026-02-14


def _prices(*models: str) -> dict[str, ResolvedPrice | None]:
    book = PriceBook.builtin().with_overrides({"acme.own-v1": {"input": 1, "output": 2}})
    return {model: book.resolve(model, DEFAULT_REGION) for model in models}


def test_age_is_counted_in_days_and_the_limit_is_inclusive() -> None:
    as_of = date(2025, 7, 20)
    assert age_days(as_of, date(2026, 1, 16)) == 180
    assert not is_stale(as_of, 180, date(2026, 1, 16))
    assert is_stale(as_of, 180, date(2026, 1, 17))
    assert not is_stale(None, 0, date(2030, 1, 1))  # undated: a scenario's own price


def test_only_prices_past_the_limit_are_named_once_with_their_dates() -> None:
    prices = _prices(NOVA_LITE, HAIKU_45, "acme.own-v1")
    today = date(2026, 3, 1)  # Nova Lite 224 days old, Haiku 4.5 15
    warning = old_prices_warning(prices, 180, today)
    assert warning is not None
    assert f"{NOVA_LITE} (2025-07-20)" in warning
    assert HAIKU_45 not in warning and "acme.own-v1" not in warning
    (note,) = stale_price_notes(prices, 180, today)
    assert NOVA_LITE in note and "224 days old" in note
    assert "https://aws.amazon.com/bedrock/pricing/" in note  # where to check it
    assert old_prices_warning(prices, 365, today) is None
    assert stale_price_notes(prices, 365, today) == []
