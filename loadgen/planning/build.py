"""A model's plan from what was measured and the target: the load, the quota to request, and
the monthly bill of every way of serving it, with where the fixed-price ones break even.

Every figure is arithmetic on means of the measured requests (docs/plan.md works one example
by hand). On-demand and latency-optimised bills scale with the load; Provisioned Throughput and
the Reserved tier are bought for the interactive peak, whatever the hour. The deferrable share
goes to batch (or, for a model without batch rates, flex, else standard) in every option.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from loadgen.config.quota_spec import quota_pool
from loadgen.cost.accounting import tokens_cost
from loadgen.cost.pricing import Commitment, Rates, ResolvedPrice
from loadgen.planning.break_even import (
    EPSILON,
    provisioned_break_even,
    reserved_break_even,
    units_needed,
)
from loadgen.planning.measured import GivenQuota, Measured, TokenTotals
from loadgen.planning.schema import (
    DeferrableVia,
    Load,
    MeasuredTokens,
    ModelPlan,
    OptionBill,
    OptionName,
    QuotaNeed,
)
from loadgen.planning.target import ModelUnit, Target

SECONDS_PER_HOUR = 3600
MINUTE_S = 60
# The per-token ways of buying a model, as cost_per_request_usd names them.
TOKEN_KINDS = ("standard", "priority", "flex", "batch", "latency_optimized")
ON_DEMAND_OPTIONS: dict[OptionName, str] = {
    "on_demand_standard": "standard",
    "on_demand_priority": "priority",
    "on_demand_flex": "flex",
    "latency_optimized": "latency_optimized",
}
PROVISIONED_OPTIONS: dict[OptionName, Commitment] = {
    "provisioned_none": Commitment.NONE,
    "provisioned_one_month": Commitment.ONE_MONTH,
    "provisioned_six_months": Commitment.SIX_MONTHS,
}


@dataclass(frozen=True)
class PerRequest:
    """Mean tokens of one request."""

    input: float
    output: float
    cache_read: float
    cache_write: float

    @classmethod
    def of(cls, totals: TokenTotals) -> PerRequest:
        n = totals.requests
        return cls(
            totals.input / n, totals.output / n, totals.cache_read / n, totals.cache_write / n
        )

    @property
    def all_tokens(self) -> float:
        return self.input + self.cache_read + self.cache_write + self.output

    @property
    def quota_input(self) -> float:
        """Input that counts against quotas and reservations: plain input and cache writes."""
        return self.input + self.cache_write


def plan_model(
    measured: Measured,
    price: ResolvedPrice | None,
    burndown: float,
    target: Target,
    unit: ModelUnit,
    quota: GivenQuota | None,
) -> ModelPlan:
    totals = measured.totals
    mean = PerRequest.of(totals)
    assert measured.max_tokens is not None  # the command asks for it first
    notes = list(measured.notes)
    peak_rps = target.peak_rps or (target.peak_tpm or 0) / MINUTE_S / mean.all_tokens
    load = _load(peak_rps, mean, target)
    costs = _costs_per_request(measured, price)
    via: DeferrableVia = "standard"
    if costs["batch"] is not None:
        via = "batch"
    elif costs["flex"] is not None:
        via = "flex"
    deferrable = _usd(costs[via], load["deferrable_requests_per_month"])
    on_demand_per_rps = _on_demand_per_rps(costs["standard"], target)
    options: dict[OptionName, OptionBill] = {}
    for name, kind in ON_DEMAND_OPTIONS.items():
        interactive = _usd(costs[kind], load["interactive_requests_per_month"])
        why = None if costs[kind] is not None else _no_rates(kind, price)
        options[name] = _bill(interactive, deferrable, why=why)
    for name, commitment in PROVISIONED_OPTIONS.items():
        options[name] = _provisioned(
            price, commitment, load, mean, unit, target, deferrable, on_demand_per_rps
        )
    options["reserved"] = _reserved(price, load, mean, target, deferrable, on_demand_per_rps)
    priced = {name: bill["monthly_usd"] for name, bill in options.items()}
    cheapest = min(
        (name for name, usd in priced.items() if usd is not None),
        key=lambda name: priced[name] or 0.0,
        default=None,
    )
    if not unit.given:
        notes.append(
            f"a model unit is taken to process {unit.input_tpm:,} input and {unit.output_tpm:,} "
            "output tokens per minute (the default): give your account's figure with "
            "--model-unit-tpm"
        )
    if price is not None and price.fell_back:
        notes.append(f"no price for its region: {price.region}'s is used")
    return {
        "catalogue_id": None if price is None else price.catalogue_id,
        "price_as_of": None if price is None or price.as_of is None else price.as_of.isoformat(),
        "measured": _measured(measured, mean, burndown),
        "load": load,
        "quota": _quota_need(
            measured.model, mean, measured.max_tokens, burndown, load, target, quota
        ),
        "cost_per_request_usd": {kind: _round(cost, 9) for kind, cost in costs.items()},
        "deferrable_via": via,
        "options": options,
        "cheapest": cheapest,
        "notes": notes,
    }


def _measured(measured: Measured, mean: PerRequest, burndown: float) -> MeasuredTokens:
    assert measured.max_tokens is not None
    return {
        "requests": measured.totals.requests,
        "input": round(mean.input, 3),
        "output": round(mean.output, 3),
        "cache_read": round(mean.cache_read, 3),
        "cache_write": round(mean.cache_write, 3),
        "long_context_requests": measured.long.requests,
        "max_tokens": measured.max_tokens,
        "burndown": burndown,
    }


def _load(peak_rps: float, mean: PerRequest, target: Target) -> Load:
    interactive_rps = peak_rps * (1 - target.deferrable_share)
    per_month = peak_rps * SECONDS_PER_HOUR * target.peak_hours_per_month
    interactive_per_month = interactive_rps * SECONDS_PER_HOUR * target.peak_hours_per_month
    return {
        "peak_rps": round(peak_rps, 6),
        "interactive_rps": round(interactive_rps, 6),
        "requests_per_month": round(per_month, 3),
        "interactive_requests_per_month": round(interactive_per_month, 3),
        "deferrable_requests_per_month": round(per_month - interactive_per_month, 3),
        "input_tpm": round(interactive_rps * MINUTE_S * mean.quota_input, 3),
        "output_tpm": round(interactive_rps * MINUTE_S * mean.output, 3),
    }


def _costs_per_request(measured: Measured, price: ResolvedPrice | None) -> dict[str, float | None]:
    """USD per request of each per-token kind; the standard one bills the requests above the
    long-context threshold at the long-context rates, as a run does."""
    costs: dict[str, float | None] = dict.fromkeys(TOKEN_KINDS)
    if price is None:
        return costs
    prices = price.prices
    totals = measured.totals
    n = totals.requests
    standard = _totals_cost(prices, measured.regular)
    if measured.long.requests:
        assert prices.long_context is not None  # requests are split by its threshold
        standard += _totals_cost(prices.long_context, measured.long)
    costs["standard"] = standard / n
    others: dict[str, Rates | None] = {
        "priority": prices.priority,
        "flex": prices.flex,
        "batch": prices.batch,
        "latency_optimized": prices.latency_optimized,
    }
    for kind, rates in others.items():
        costs[kind] = None if rates is None else _totals_cost(rates, totals) / n
    return costs


def _totals_cost(rates: Rates, totals: TokenTotals) -> float:
    return tokens_cost(rates, totals.input, totals.output, totals.cache_read, totals.cache_write)


def _on_demand_per_rps(standard: float | None, target: Target) -> float | None:
    """USD a month that each request/s of peak costs on demand, interactive share only."""
    if standard is None:
        return None
    interactive = 1 - target.deferrable_share
    return standard * SECONDS_PER_HOUR * target.peak_hours_per_month * interactive


def _provisioned(
    price: ResolvedPrice | None,
    commitment: Commitment,
    load: Load,
    mean: PerRequest,
    unit: ModelUnit,
    target: Target,
    deferrable: float | None,
    on_demand_per_rps: float | None,
) -> OptionBill:
    provisioned = None if price is None else price.provisioned
    hourly = None if provisioned is None else provisioned.hourly(commitment)
    units = units_needed((load["input_tpm"], load["output_tpm"]), (unit.input_tpm, unit.output_tpm))
    # Without commitment a Provisioned Throughput can be deleted after the day's peak and bought
    # again the next day; a committed one is billed every hour of the month.
    hours = target.peak_hours_per_month if commitment is Commitment.NONE else target.hours_per_month
    if hourly is None:
        why = (
            "no Provisioned Throughput price known: give one with --prices FILE (docs/pricing.md)"
            if provisioned is None
            else f"no {commitment.value.replace('_', ' ')} price in {provisioned.source}"
        )
        bill = _bill(None, deferrable, why=why)
        bill["units"] = units
        bill["hours"] = hours
        return bill
    bill = _bill(units * hourly * hours, deferrable)
    interactive = 1 - target.deferrable_share
    capacity_rps = min(
        unit.input_tpm / (MINUTE_S * mean.quota_input * interactive)
        if mean.quota_input
        else math.inf,
        unit.output_tpm / (MINUTE_S * mean.output * interactive) if mean.output else math.inf,
    )
    break_even = (
        None
        if on_demand_per_rps is None
        else provisioned_break_even(hourly * hours, on_demand_per_rps, capacity_rps)
    )
    bill["units"] = units
    bill["hourly_usd"] = hourly
    bill["hours"] = hours
    bill["break_even_rps"] = _round(break_even, 4)
    return bill


def _reserved(
    price: ResolvedPrice | None,
    load: Load,
    mean: PerRequest,
    target: Target,
    deferrable: float | None,
    on_demand_per_rps: float | None,
) -> OptionBill:
    reserved = None if price is None else price.reserved
    if reserved is None:
        return _bill(
            None,
            deferrable,
            why="no Reserved tier price known (from the AWS account team): --prices FILE",
        )
    input_tpm = max(load["input_tpm"], reserved.min_input_tpm)
    output_tpm = max(load["output_tpm"], reserved.min_output_tpm)
    monthly = (
        input_tpm / 1000 * reserved.input_per_1k_tpm_month
        + output_tpm / 1000 * reserved.output_per_1k_tpm_month
    )
    bill = _bill(monthly, deferrable)
    interactive = 1 - target.deferrable_share
    break_even = (
        None
        if on_demand_per_rps is None
        else reserved_break_even(
            (reserved.min_input_tpm, reserved.min_output_tpm),
            (MINUTE_S * mean.quota_input * interactive, MINUTE_S * mean.output * interactive),
            (reserved.input_per_1k_tpm_month, reserved.output_per_1k_tpm_month),
            on_demand_per_rps,
        )
    )
    bill["reserved_input_tpm"] = round(float(input_tpm), 3)
    bill["reserved_output_tpm"] = round(float(output_tpm), 3)
    bill["break_even_rps"] = _round(break_even, 4)
    return bill


def _quota_need(
    model: str,
    mean: PerRequest,
    max_tokens: int,
    burndown: float,
    load: Load,
    target: Target,
    given: GivenQuota | None,
) -> QuotaNeed:
    """The reservation is held while a request runs and the settlement is what it finally
    used, so a minute of peak needs its requests times the larger of the two (AWS: at the start
    input + max_tokens is deducted, at the end input + cache write + output x burndown).
    A day needs only the settlements: what is not used is given back."""
    reserved = mean.quota_input + max_tokens
    settled = mean.quota_input + burndown * mean.output
    per_minute = load["interactive_rps"] * MINUTE_S
    need = {
        "tpm": _ceil(per_minute * max(reserved, settled)),
        "tpd": _ceil(per_minute * MINUTE_S * target.hours_per_day * settled),
        "rpm": _ceil(per_minute),
    }
    short = []
    if given is not None:
        for name in ("tpm", "tpd", "rpm"):
            limit = getattr(given, name)
            if limit is not None and limit < need[name]:
                short.append(name)
    return {
        "pool": quota_pool(model),
        "reserved_per_request": round(reserved, 3),
        "settled_per_request": round(settled, 3),
        "tpm": need["tpm"],
        "tpd": need["tpd"],
        "rpm": need["rpm"],
        "given": None
        if given is None
        else {"tpm": given.tpm, "tpd": given.tpd, "rpm": given.rpm, "source": given.source},
        "fits": None if given is None else not short,
        "short": short,
    }


def _bill(
    interactive: float | None, deferrable: float | None, why: str | None = None
) -> OptionBill:
    monthly = None if interactive is None or deferrable is None else interactive + deferrable
    if why is None and deferrable is None:
        why = "the model has no price"
    return {
        "monthly_usd": _round(monthly, 2),
        "interactive_usd": _round(interactive, 2),
        "deferrable_usd": _round(deferrable, 2),
        "units": None,
        "hourly_usd": None,
        "hours": None,
        "reserved_input_tpm": None,
        "reserved_output_tpm": None,
        "break_even_rps": None,
        "why": why,
    }


def _no_rates(kind: str, price: ResolvedPrice | None) -> str:
    if price is None:
        return "the model has no price"
    return f"no {kind.replace('_', '-')} rates for {price.catalogue_id} in the catalogue"


def _usd(per_request: float | None, requests: float) -> float | None:
    return None if per_request is None else per_request * requests


def _ceil(value: float) -> int:
    return math.ceil(value - EPSILON)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
