"""How old a price is, and when that is too old to trust without a look.

Prices change and loadgen cannot fetch them (the AWS pricing page is built by script); each
catalogue entry carries the date it was checked (`as_of`). A price older than the limit
(`loadgen prices --max-age`, a run's cost.max_price_age_days; 180 days unless set) is flagged, so
a total is never taken for current when it may not be. A scenario's own prices have no date and
are never flagged: they are the user's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime

from loadgen.cost.pricing import ResolvedPrice


def today_utc() -> date:
    return datetime.now(UTC).date()


def age_days(as_of: date | None, today: date) -> int | None:
    return None if as_of is None else (today - as_of).days


def is_stale(as_of: date | None, max_age_days: int, today: date) -> bool:
    age = age_days(as_of, today)
    return age is not None and age > max_age_days


def stale_price_notes(
    prices: Mapping[str, ResolvedPrice | None], max_age_days: int, today: date
) -> list[str]:
    """One line per model of a run whose price is older than `max_age_days`, naming its date
    and source: what the preflight warning and run.notes say."""
    notes = []
    for model, price in prices.items():
        if price is None or not is_stale(price.as_of, max_age_days, today):
            continue
        assert price.as_of is not None  # is_stale says a date is there
        notes.append(
            f"the price of {model} ({price.catalogue_id}, {price.region}) is from "
            f"{price.as_of.isoformat()}, {age_days(price.as_of, today)} days old (more than "
            f"{max_age_days}): check it against {price.source} and give a current one in the "
            "scenario's pricing: section if it changed (docs/pricing.md)"
        )
    return notes


def old_prices_warning(
    prices: Mapping[str, ResolvedPrice | None], max_age_days: int, today: date
) -> str | None:
    """One warning for every old price of a run, said once before it starts; None if none."""
    old = [
        f"{model} ({price.as_of.isoformat()})"
        for model, price in prices.items()
        if price is not None
        and price.as_of is not None
        and is_stale(price.as_of, max_age_days, today)
    ]
    if not old:
        return None
    return (
        f"prices older than {max_age_days} days: {', '.join(old)}. Costs are computed with "
        "them; `loadgen prices` shows their sources, and a scenario's pricing: section can give "
        "current ones (cost.max_price_age_days sets the limit)"
    )
