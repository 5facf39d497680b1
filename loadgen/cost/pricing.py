"""What each model's tokens cost: the shipped catalogue, a scenario's overrides, and lookup.

Prices are USD per 1,000,000 tokens, by Bedrock model id and region. A cross-region inference
profile id (`us.`, `eu.`, `global.` ...) resolves to its base model unless the catalogue prices
the profile itself, and a region the catalogue lacks falls back to us-east-1, flagged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rich.table import Table

from loadgen.config.price_override import Price, PriceOverride
from loadgen.core.errors import ConfigError

DEFAULT_REGION = "us-east-1"
ANY_REGION = "*"  # a scenario price given without a region applies in every region
SCENARIO_SOURCE = "scenario"
BUILTIN_PATH = Path(__file__).with_name("pricing.yaml")

# Prefixes of system-defined cross-region inference profiles. Geographic ones are billed at the
# source region's price of the base model; global ones may be cheaper (priced by exact id).
PROFILE_PREFIXES = ("us", "eu", "apac", "us-gov", "global", "jp", "au", "ca")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class TokenPrices(_Strict):
    input: Price = Field(ge=0)
    output: Price = Field(ge=0)
    cache_read: Price | None = Field(None, ge=0)  # None: the model has no prompt caching
    cache_write: Price | None = Field(None, ge=0)


class PriceEntry(_Strict):
    prices: TokenPrices
    source: str = Field(min_length=1)  # the provider's page, or "scenario"
    as_of: date | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class ResolvedPrice:
    prices: TokenPrices
    model_id: str  # as the scenario wrote it
    catalogue_id: str  # the catalogue entry whose price is used
    region: str  # the catalogue region used: the requested one, us-east-1, or "*"
    fell_back: bool  # True when the requested region had no price of its own
    source: str
    as_of: date | None


class PriceBook(_Strict):
    models: dict[str, dict[str, PriceEntry]]

    @classmethod
    def builtin(cls) -> PriceBook:
        return cls.load(BUILTIN_PATH)

    @classmethod
    def load(cls, path: Path) -> PriceBook:
        source = str(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError([f"cannot read the price catalogue: {exc}"], source) from None
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(_problems(exc), source) from None

    def with_overrides(
        self, overrides: Mapping[str, PriceOverride | Mapping[str, Any]]
    ) -> PriceBook:
        """A new book where each scenario price replaces or adds an entry (source "scenario")."""
        models = {model: dict(regions) for model, regions in self.models.items()}
        problems: list[str] = []
        for model_id, raw in overrides.items():
            try:
                override = (
                    raw if isinstance(raw, PriceOverride) else PriceOverride.model_validate(raw)
                )
            except ValidationError as exc:
                problems += _problems(exc, prefix=("pricing", model_id))
                continue
            entry = PriceEntry(
                prices=TokenPrices(
                    input=override.input,
                    output=override.output,
                    cache_read=override.cache_read,
                    cache_write=override.cache_write,
                ),
                source=SCENARIO_SOURCE,
                note="given in the scenario",
            )
            if override.region is None:
                # The user's price is authoritative everywhere: drop the catalogue's regions so
                # none of them can win over it.
                models[model_id] = {ANY_REGION: entry}
            else:
                models.setdefault(model_id, {})[override.region] = entry
        if problems:
            raise ConfigError(problems, "scenario")
        return PriceBook(models=models)

    def resolve(self, model_id: str, region: str) -> ResolvedPrice | None:
        for catalogue_id in _candidates(model_id):
            regions = self.models.get(catalogue_id)
            if not regions:
                continue
            used, fell_back = _pick_region(regions, region)
            entry = regions[used]
            return ResolvedPrice(
                prices=entry.prices,
                model_id=model_id,
                catalogue_id=catalogue_id,
                region=used,
                fell_back=fell_back,
                source=entry.source,
                as_of=entry.as_of,
            )
        return None


def _candidates(model_id: str) -> list[str]:
    # An ARN (foundation-model/<id> or inference-profile/<id>) names the id after the slash.
    # Application inference profiles have opaque ids and stay unknown.
    bare = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    candidates = [bare]
    prefix, dot, base = bare.partition(".")
    if dot and prefix in PROFILE_PREFIXES and base:
        candidates.append(base)
    return candidates


def _pick_region(regions: Mapping[str, PriceEntry], region: str) -> tuple[str, bool]:
    if region in regions:
        return region, False
    if ANY_REGION in regions:
        return ANY_REGION, False
    if DEFAULT_REGION in regions:
        return DEFAULT_REGION, True
    # A model priced for one other region only (a scenario override): better a flagged price
    # from that region than none.
    return min(regions), True


def unknown_models(book: PriceBook, model_ids: Iterable[str], region: str) -> list[str]:
    unknown: list[str] = []
    for model_id in model_ids:
        if model_id not in unknown and book.resolve(model_id, region) is None:
            unknown.append(model_id)
    return unknown


def unpriced_message(model_ids: Iterable[str]) -> str:
    """Tells the user which models have no price and the two ways on."""
    models = list(model_ids)
    if not models:
        return ""
    names = ", ".join(models)
    head = (
        f"no price is known for {names}."
        if len(models) == 1
        else f"no price is known for {len(models)} models: {names}."
    )
    first, *rest = models
    example = (
        f"    {_yaml_key(first)}:\n"
        "      input: 0.50          # USD per 1M input tokens\n"
        "      output: 1.50         # USD per 1M output tokens\n"
        "      cache_read: 0.05     # optional: input read from the prompt cache\n"
        "      cache_write: 0.625   # optional: input written to the prompt cache\n"
        "      # region: us-east-1  # optional: without it, the price holds in every region\n"
    )
    example += "".join(f"    {_yaml_key(m)}: {{input: 0.50, output: 1.50}}\n" for m in rest)
    return (
        f"{head}\nGive each a price in the scenario (USD per 1M tokens; see docs/pricing.md):\n\n"
        f"  pricing:\n{example}\n"
        "or run with --allow-unpriced to measure without their cost: the report then counts "
        "their requests as unpriced and totals the priced models only."
    )


def _yaml_key(model_id: str) -> str:
    # Bedrock ids contain ':' ("amazon.nova-lite-v1:0"): quoting keeps the example valid YAML,
    # and a JSON string is a valid YAML double-quoted scalar.
    return json.dumps(model_id)


def render_price_table(book: PriceBook) -> Table:
    table = Table(title="Bedrock on-demand prices, USD per 1M tokens", title_justify="left")
    table.add_column("model", no_wrap=True)
    table.add_column("region", no_wrap=True)
    for column in ("input", "output", "cache read", "cache write"):
        table.add_column(column, justify="right")
    table.add_column("as of", no_wrap=True)
    for model_id in sorted(book.models):
        regions = book.models[model_id]
        for region in sorted(regions):
            entry = regions[region]
            prices = entry.prices
            table.add_row(
                model_id,
                "any" if region == ANY_REGION else region,
                _usd(prices.input),
                _usd(prices.output),
                _usd(prices.cache_read),
                _usd(prices.cache_write),
                entry.as_of.isoformat() if entry.as_of else entry.source,
            )
    return table


def _usd(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _problems(exc: ValidationError, prefix: tuple[str, ...] = ()) -> list[str]:
    problems = []
    for error in exc.errors():
        where = ".".join((*prefix, *(str(part) for part in error["loc"]))) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key; check its spelling against docs/pricing.md"
        elif error["type"] == "missing":
            message = "required key is missing"
        problems.append(f"{where}: {message}")
    return problems
