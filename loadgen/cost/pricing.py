"""What each model's tokens cost: the shipped catalogue, a scenario's overrides, and lookup.

Prices are USD per 1,000,000 tokens, by Bedrock model id and region. A cross-region inference
profile id (`us.`, `eu.`, `global.` ...) resolves to its base model unless the catalogue prices
the profile itself, and a region the catalogue lacks falls back to us-east-1, flagged.

Beside the standard on-demand rates an entry may carry the other ways Bedrock sells the same
model (docs/pricing.md): the priority and flex service tiers, latency-optimised inference and
batch (per token), Provisioned Throughput (per model unit and hour, by commitment) and the
Reserved tier (per 1,000 tokens-per-minute and month).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from loadgen.config.price_override import Price, PriceOverride
from loadgen.core.errors import ConfigError

DEFAULT_REGION = "us-east-1"
ANY_REGION = "*"  # a scenario price given without a region applies in every region
SCENARIO_SOURCE = "scenario"
BUILTIN_PATH = Path(__file__).with_name("pricing.yaml")
_Model = TypeVar("_Model", bound=BaseModel)

# Prefixes of system-defined cross-region inference profiles. Geographic ones are billed at the
# source region's price of the base model; global ones may be cheaper (priced by exact id).
PROFILE_PREFIXES = ("us", "eu", "apac", "us-gov", "global", "jp", "au", "ca")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Rates(_Strict):
    """USD per 1M tokens of each kind a request is billed for."""

    input: Price = Field(ge=0)
    output: Price = Field(ge=0)
    cache_read: Price | None = Field(None, ge=0)  # None: the model has no prompt caching
    cache_write: Price | None = Field(None, ge=0)  # a 5-minute cache write (the default TTL)
    # A 1-hour cache write (Claude: 2x input); None where the catalogue knows of none. Usage
    # does not say which TTL a write had: the worst case takes the dearer, a bill the 5-minute.
    cache_write_1h: Price | None = Field(None, ge=0)

    @property
    def dearest_input(self) -> Price:
        """The most one input token can cost: plain, or written to the cache."""
        return max(self.input, self.cache_write or 0.0, self.cache_write_1h or 0.0)


class LongContextRates(Rates):
    """The rates of a request whose input (plain, cache read and cache write together) is
    above `above_input_tokens`: every token of it, output included, is billed at these."""

    above_input_tokens: int = Field(gt=0)


class Tier(StrEnum):
    """The on-demand service tier that served a request, and so the rates it is billed at."""

    STANDARD = "standard"
    PRIORITY = "priority"  # ahead of the others, at a premium
    FLEX = "flex"  # behind the others, at a discount
    RESERVED = "reserved"  # the Reserved tier: paid by the month, per token-per-minute reserved


# Bedrock's names in a response's `serviceTier.type` (bedrock-runtime ServiceTierType; "default"
# is the standard tier) → the tier billed. A name not here is billed as unknown (cost null).
RESPONSE_TIERS: dict[str, Tier] = {
    "default": Tier.STANDARD,
    "standard": Tier.STANDARD,
    "priority": Tier.PRIORITY,
    "flex": Tier.FLEX,
    "reserved": Tier.RESERVED,
}


class TokenPrices(Rates):
    long_context: LongContextRates | None = None
    # The other per-token ways of buying the same model, where the catalogue knows a price; None:
    # not offered, or no price known. Long-context rates apply to the standard tier only.
    priority: Rates | None = None
    flex: Rates | None = None
    batch: Rates | None = None  # batch inference jobs (not sent by loadgen; used by `plan`)
    latency_optimized: Rates | None = None  # performanceConfig latency "optimized"

    def rates_for(self, input_tokens: int) -> Rates:
        """The rates a request with this many input tokens (every kind together) pays."""
        long_context = self.long_context
        if long_context is not None and input_tokens > long_context.above_input_tokens:
            return long_context
        return self

    def tier_rates(self, tier: Tier, input_tokens: int) -> Rates | None:
        """The rates a request served by `tier` pays; None when the catalogue has none for that
        tier. A request served by the Reserved tier pays nothing per token: the reservation is
        billed by the month."""
        if tier is Tier.STANDARD:
            return self.rates_for(input_tokens)
        if tier is Tier.RESERVED:
            return FREE_RATES
        return self.priority if tier is Tier.PRIORITY else self.flex


FREE_RATES = Rates(input=0.0, output=0.0, cache_read=0.0, cache_write=0.0)
# The per-token rate blocks of TokenPrices beside the standard ones.
OTHER_WAYS_TO_BUY = ("priority", "flex", "batch", "latency_optimized")


class Commitment(StrEnum):
    """How long a Provisioned Throughput is bought for: the longer, the lower its hourly price."""

    NONE = "none"  # deleted at any time, billed by the hour it exists
    ONE_MONTH = "one_month"
    SIX_MONTHS = "six_months"


class ProvisionedPrices(_Strict):
    """Provisioned Throughput: USD per model unit per hour, by commitment (None: not offered,
    or no price known). AWS quotes these per account ("For more information about what an MU
    specifies, pricing per MU ... contact your AWS account manager", user guide), so an entry
    usually comes from a file the user gives (docs/pricing.md)."""

    none: float | None = Field(None, ge=0)
    one_month: float | None = Field(None, ge=0)
    six_months: float | None = Field(None, ge=0)
    source: str = Field(min_length=1)
    as_of: date | None = None
    note: str = ""

    def hourly(self, commitment: Commitment) -> float | None:
        return {
            Commitment.NONE: self.none,
            Commitment.ONE_MONTH: self.one_month,
            Commitment.SIX_MONTHS: self.six_months,
        }[commitment]


class ReservedPrices(_Strict):
    """The Reserved tier: USD per 1,000 tokens-per-minute reserved, per month, for input (input
    and cache writes count) and output separately, with AWS's minimum reservation."""

    input_per_1k_tpm_month: float = Field(ge=0)
    output_per_1k_tpm_month: float = Field(ge=0)
    min_input_tpm: int = Field(100_000, ge=0)  # service tiers user guide: the minimums
    min_output_tpm: int = Field(10_000, ge=0)
    source: str = Field(min_length=1)
    as_of: date | None = None
    note: str = ""


class PriceEntry(_Strict):
    prices: TokenPrices
    source: str = Field(min_length=1)  # the provider's page, or "scenario"
    as_of: date | None = None
    note: str = ""
    provisioned: ProvisionedPrices | None = None
    reserved: ReservedPrices | None = None


@dataclass(frozen=True, slots=True)
class ResolvedPrice:
    prices: TokenPrices
    model_id: str  # as the scenario wrote it
    catalogue_id: str  # the catalogue entry whose price is used
    region: str  # the catalogue region used: the requested one, us-east-1, or "*"
    fell_back: bool  # True when the requested region had no price of its own
    source: str
    as_of: date | None
    provisioned: ProvisionedPrices | None = None
    reserved: ReservedPrices | None = None


class PriceBook(_Strict):
    models: dict[str, dict[str, PriceEntry]]

    @classmethod
    def builtin(cls) -> PriceBook:
        return cls.load(BUILTIN_PATH)

    @classmethod
    def load(cls, path: Path) -> PriceBook:
        return _read_yaml(path, "the price catalogue", cls)

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
                prices=TokenPrices.model_validate(override.model_dump(exclude={"region"})),
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
        for catalogue_id in model_candidates(model_id):
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
                provisioned=entry.provisioned,
                reserved=entry.reserved,
            )
        return None

    def with_quotes(self, path: Path) -> PriceBook:
        """A new book with a file of quotes laid over it (`--prices FILE`, docs/pricing.md): the
        catalogue's layout, where an entry gives only what it changes (Provisioned Throughput
        or Reserved tier prices for a model the catalogue prices, say); a model or region the
        catalogue lacks needs its `prices` and `source`."""
        quotes = QuoteBook.load(path)
        models = {model: dict(regions) for model, regions in self.models.items()}
        problems = []
        for model, regions in quotes.models.items():
            for region, quote in regions.items():
                given = {name: getattr(quote, name) for name in quote.model_fields_set}
                known = models.get(model, {}).get(region)
                if known is not None:
                    models[model][region] = known.model_copy(update=given)
                elif quote.prices is None or quote.source is None:
                    problems.append(
                        f"models.{model}.{region}: not in the catalogue, so it needs prices and "
                        "a source of its own"
                    )
                else:
                    models.setdefault(model, {})[region] = PriceEntry(**given)
        if problems:
            raise ConfigError(problems, str(path))
        return PriceBook(models=models)


class QuoteEntry(_Strict):
    """One model and region in a file of quotes: any part of a catalogue entry."""

    prices: TokenPrices | None = None
    source: str | None = Field(None, min_length=1)
    as_of: date | None = None
    note: str = ""
    provisioned: ProvisionedPrices | None = None
    reserved: ReservedPrices | None = None


class QuoteBook(_Strict):
    models: dict[str, dict[str, QuoteEntry]]

    @classmethod
    def load(cls, path: Path) -> QuoteBook:
        return _read_yaml(path, "the prices file", cls)


def model_candidates(model_id: str) -> list[str]:
    """The catalogue ids to try for a model id, most specific first: the id itself, then its
    base model. An ARN (foundation-model/<id> or inference-profile/<id>) names the id after its
    last slash (application inference profiles have opaque ids and stay unknown), and a system
    inference profile puts a geography in front of the model id (`us.`, `eu.` ...)."""
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


@dataclass(frozen=True, slots=True)
class PriceListing:
    """What `loadgen prices` shows: one row per model and region (its cells as text, rich
    markup allowed), the sources its rows point to, and how many rows are older than the limit.
    The command lays the rows out to fit the terminal (loadgen/report/fit.py)."""

    headers: list[str]  # the first two, model and region, are the key columns
    rows: list[list[str]]
    sources: list[str]  # row "source" [n] is sources[n - 1]
    stale: int


LISTING_HEADERS = [
    "model",
    "region",
    "input",
    "output",
    "cache read",
    "cache write",
    "1h write",
    "long context",
    "also",
    "as of",
    "age",
    "source",
]
# The other ways to buy a model, as the overview's "also" column names them.
ALSO_NAMES = (
    ("priority", "prio"),
    ("flex", "flex"),
    ("batch", "batch"),
    ("latency_optimized", "lat-opt"),
)


def price_listing(
    book: PriceBook, today: date, max_age_days: int, model_ids: Iterable[str] | None = None
) -> PriceListing:
    """Every model and region (or those of `model_ids`) with its standard on-demand prices,
    the other ways it is sold ("also": prio, flex, batch, lat-opt, PT, rsv), the date they
    were checked, their age (flagged "old" past `max_age_days`) and a numbered source."""
    wanted = None if model_ids is None else set(model_ids)
    rows: list[list[str]] = []
    sources: list[str] = []
    stale = 0
    for model_id in sorted(book.models):
        if wanted is not None and model_id not in wanted:
            continue
        regions = book.models[model_id]
        for region in sorted(regions):
            entry = regions[region]
            prices = entry.prices
            if entry.source not in sources:
                sources.append(entry.source)
            age = None if entry.as_of is None else (today - entry.as_of).days
            old = age is not None and age > max_age_days
            stale += old
            rows.append(
                [
                    model_id,
                    "any" if region == ANY_REGION else region,
                    _usd(prices.input),
                    _usd(prices.output),
                    _usd(prices.cache_read),
                    _usd(prices.cache_write),
                    _usd(prices.cache_write_1h),
                    _long_context(prices.long_context),
                    _also(entry),
                    "-" if entry.as_of is None else entry.as_of.isoformat(),
                    "-" if age is None else f"{age} d" + (" [yellow]old[/yellow]" if old else ""),
                    f"[{sources.index(entry.source) + 1}]",
                ]
            )
    return PriceListing(list(LISTING_HEADERS), rows, sources, stale)


def _also(entry: PriceEntry) -> str:
    names = [short for kind, short in ALSO_NAMES if getattr(entry.prices, kind) is not None]
    names += ["PT"] if entry.provisioned is not None else []
    names += ["rsv"] if entry.reserved is not None else []
    return " ".join(names) or "-"


@dataclass(frozen=True, slots=True)
class PriceDetail:
    """One catalogue entry in full, as `loadgen prices --model` shows it: a row per way of
    buying its tokens, then Provisioned Throughput and the Reserved tier, each with its source."""

    catalogue_id: str
    region: str
    token_headers: list[str]
    token_rows: list[list[str]]  # kind, then a cell per header after the first
    lines: list[str]  # Provisioned Throughput, Reserved tier, source, date, note


TOKEN_HEADERS = ["USD per 1M tokens", "input", "output", "cache read", "cache write", "1h write"]


def price_details(book: PriceBook, model_id: str) -> list[PriceDetail]:
    """Every entry `model_id` can be priced by (the id itself, then its base model when it is
    a profile id), region by region; [] when the catalogue knows neither."""
    details = []
    for catalogue_id in model_candidates(model_id):
        for region, entry in sorted((book.models.get(catalogue_id) or {}).items()):
            details.append(_detail(catalogue_id, region, entry))
    return details


def _detail(catalogue_id: str, region: str, entry: PriceEntry) -> PriceDetail:
    prices = entry.prices
    kinds: list[tuple[str, Rates | None]] = [("standard", prices)]
    if prices.long_context is not None:
        kinds.append((f"> {prices.long_context.above_input_tokens:,} input", prices.long_context))
    kinds += [
        ("priority", prices.priority),
        ("flex", prices.flex),
        ("batch", prices.batch),
        ("latency-optimised", prices.latency_optimized),
    ]
    rows = [
        [kind]
        + (
            ["-"] * (len(TOKEN_HEADERS) - 1)
            if rates is None
            else [
                _usd(rates.input),
                _usd(rates.output),
                _usd(rates.cache_read),
                _usd(rates.cache_write),
                _usd(rates.cache_write_1h),
            ]
        )
        for kind, rates in kinds
    ]
    lines = [_provisioned_line(entry.provisioned), _reserved_line(entry.reserved)]
    lines.append(
        f"source: {entry.source}"
        + ("" if entry.as_of is None else f" (checked {entry.as_of.isoformat()})")
    )
    if entry.note:
        lines.append(f"note: {entry.note}")
    return PriceDetail(catalogue_id, region, list(TOKEN_HEADERS), rows, lines)


def _provisioned_line(provisioned: ProvisionedPrices | None) -> str:
    if provisioned is None:
        return (
            "Provisioned Throughput: no price known (AWS quotes it per account; give it with "
            "--prices FILE, docs/pricing.md)"
        )
    hourly = ", ".join(
        f"{commitment.value.replace('_', ' ')} {_usd(provisioned.hourly(commitment))}"
        for commitment in Commitment
    )
    dated = "" if provisioned.as_of is None else f", {provisioned.as_of.isoformat()}"
    return (
        f"Provisioned Throughput, USD per model unit-hour: {hourly} ({provisioned.source}{dated})"
    )


def _reserved_line(reserved: ReservedPrices | None) -> str:
    if reserved is None:
        return "Reserved tier: no price known (from the AWS account team; --prices FILE)"
    dated = "" if reserved.as_of is None else f", {reserved.as_of.isoformat()}"
    return (
        f"Reserved tier, USD per 1K TPM-month: input {_usd(reserved.input_per_1k_tpm_month)}, "
        f"output {_usd(reserved.output_per_1k_tpm_month)}; at least "
        f"{reserved.min_input_tpm:,} input and {reserved.min_output_tpm:,} output TPM "
        f"({reserved.source}{dated})"
    )


def _long_context(rates: LongContextRates | None) -> str:
    if rates is None:
        return "-"
    return f">{rates.above_input_tokens // 1000}K: {_usd(rates.input)} / {_usd(rates.output)}"


def _usd(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _read_yaml(path: Path, what: str, model: type[_Model]) -> _Model:
    """The YAML file at `path` as a `model`; a file that cannot be read or does not fit is a
    ConfigError naming the file (`what` it is, in the message)."""
    source = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError([f"cannot read {what}: {exc}"], source) from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_problems(exc), source) from None


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
