"""Prices for the models of a run, resolved before anything is sent."""

from __future__ import annotations

from typing import cast

from loadgen.config.scenario import Scenario
from loadgen.core.errors import ConfigError
from loadgen.core.report_parts import PriceInfo, TokenPriceInfo
from loadgen.cost.pricing import OTHER_WAYS_TO_BUY, PriceBook, ResolvedPrice, unpriced_message


def resolve_prices(scenario: Scenario, region: str) -> dict[str, ResolvedPrice | None]:
    """Each model's price in `region`. Refuses to start (ConfigError) when a model has none,
    unless `cost.allow_unpriced`; a budget needs every price whatever the setting."""
    book = PriceBook.builtin().with_overrides(scenario.pricing)
    prices = {model.id: book.resolve(model.id, region) for model in scenario.models}
    missing = [model for model, price in prices.items() if price is None]
    if missing and scenario.cost.max_usd is not None:
        raise ConfigError(
            [f"a budget (--max-cost) needs a price for every model; {unpriced_message(missing)}"]
        )
    if missing and not scenario.cost.allow_unpriced:
        raise ConfigError([unpriced_message(missing)])
    return prices


def describe_price(price: ResolvedPrice | None) -> PriceInfo | None:
    """What the report says about a price: the figures and where they came from."""
    if price is None:
        return None
    return {
        "catalogue_id": price.catalogue_id,
        "region": price.region,
        "region_fallback": price.fell_back,
        # The price model's own dump: should its fields and TokenPriceInfo's part, a real
        # run's report fails the schema (tests/unit/report/test_report_schema.py). The other
        # ways of buying the model (tiers, batch, latency-optimised) stay in the catalogue:
        # `catalogue_id` and `as_of` name the entry.
        "usd_per_1m_tokens": cast(
            TokenPriceInfo, price.prices.model_dump(exclude=set(OTHER_WAYS_TO_BUY))
        ),
        "source": price.source,
        "as_of": None if price.as_of is None else price.as_of.isoformat(),
    }
