"""A scenario's `pricing:` entry for one model: prices that replace the shipped catalogue's.

Kept in config (not beside the catalogue in loadgen/cost/) because the scenario model
validates it; loadgen/cost/pricing.py reads it when it resolves a run's prices.
"""

from __future__ import annotations

from pydantic import Field

from loadgen.config.base import StrictModel

Price = float  # USD per 1M tokens


class LongContextOverride(StrictModel):
    """The rates a request pays once its input (every kind together) passes the threshold."""

    above_input_tokens: int = Field(gt=0)
    input: Price = Field(ge=0)
    output: Price = Field(ge=0)
    cache_read: Price | None = Field(None, ge=0)
    cache_write: Price | None = Field(None, ge=0)
    cache_write_1h: Price | None = Field(None, ge=0)


class PriceOverride(StrictModel):
    """One model's entry in a scenario's `pricing:` section."""

    input: Price = Field(ge=0)
    output: Price = Field(ge=0)
    cache_read: Price | None = Field(None, ge=0)
    cache_write: Price | None = Field(None, ge=0)  # a 5-minute cache write
    cache_write_1h: Price | None = Field(None, ge=0)
    long_context: LongContextOverride | None = None
    region: str | None = Field(None, min_length=1)
