"""plan.json, typed: what `loadgen plan` writes (docs/plan.md has every field's meaning)."""

from __future__ import annotations

from typing import Literal

from typing_extensions import TypedDict

PLAN_SCHEMA_VERSION = 1

OptionName = Literal[
    "on_demand_standard",
    "on_demand_priority",
    "on_demand_flex",
    "latency_optimized",
    "provisioned_none",
    "provisioned_one_month",
    "provisioned_six_months",
    "reserved",
]
DeferrableVia = Literal["batch", "flex", "standard"]


class TargetInputs(TypedDict):
    peak_rps: float | None  # requests per second at peak, per model
    peak_tpm: float | None  # or tokens per minute at peak (input of every kind + output)
    hours_per_day: float  # hours a day at peak; none sent outside them
    days_per_month: float
    deferrable_share: float  # of the requests, those that can wait: sent as batch jobs
    hours_per_month: float  # a committed Provisioned Throughput is billed every one of them


class PlanInputs(TypedDict):
    sources: list[str]  # the run folders read (a sweep's: each stage's)
    region: str  # whose prices are used
    target: TargetInputs
    prices_file: str | None  # --prices: quotes laid over the catalogue


class MeasuredTokens(TypedDict):
    """Means over the successful measured requests of every source."""

    requests: int
    input: float  # usage.inputTokens per request
    output: float
    cache_read: float
    cache_write: float
    long_context_requests: int  # above the model's long-context threshold
    max_tokens: int  # what each request asked for (and reserved)
    burndown: float  # quota tokens per output token (loadgen/cost/burndown.yaml)


class Load(TypedDict):
    peak_rps: float
    interactive_rps: float  # peak_rps x (1 - deferrable_share): sent on demand at peak
    requests_per_month: float  # peak_rps x 3600 x hours_per_day x days_per_month
    interactive_requests_per_month: float
    deferrable_requests_per_month: float
    input_tpm: float  # interactive, at peak: (input + cache write) x requests per minute
    output_tpm: float


class QuotaGiven(TypedDict):
    tpm: int | None
    tpd: int | None
    rpm: int | None
    source: str  # "--quota", or where the run's quota came from (scenario, account, emulator)


class QuotaNeed(TypedDict):
    """The on-demand quota the interactive load needs, by AWS's rules (docs/quotas.md)."""

    pool: Literal["in_region", "cross_region", "global"]
    reserved_per_request: float  # input + cache write + max_tokens, taken when it starts
    settled_per_request: float  # input + cache write + burndown x output, once it ends
    tpm: int  # requests per minute x the larger of the two, rounded up
    tpd: int  # requests per minute x 60 x hours_per_day x settled, rounded up
    rpm: int  # requests per minute, rounded up (where the model has an RPM quota)
    given: QuotaGiven | None
    fits: bool | None  # every given quota at least what is needed; null: none given
    short: list[str]  # the given quotas below the need: "tpm", "tpd", "rpm"


class OptionBill(TypedDict):
    """One way of serving the load, its monthly bill; null figures where it is not offered or
    has no price (`why` says which)."""

    monthly_usd: float | None  # interactive + deferrable
    interactive_usd: float | None
    deferrable_usd: float | None  # the deferrable share (same for every option)
    units: int | None  # Provisioned Throughput: model units for the interactive peak
    hourly_usd: float | None  # Provisioned Throughput: per model unit
    hours: float | None  # Provisioned Throughput: hours billed a month
    reserved_input_tpm: float | None  # Reserved tier: input and output tokens per minute
    reserved_output_tpm: float | None
    break_even_rps: float | None  # the lowest peak from which it is no dearer than standard
    why: str | None  # why it has no bill


class ModelPlan(TypedDict):
    catalogue_id: str | None  # the price entry used; null: the model has no price
    price_as_of: str | None
    measured: MeasuredTokens
    load: Load
    quota: QuotaNeed
    cost_per_request_usd: dict[str, float | None]  # standard, priority, flex, batch, ...
    deferrable_via: DeferrableVia
    options: dict[OptionName, OptionBill]
    cheapest: OptionName | None
    notes: list[str]


class PlanBody(TypedDict):
    inputs: PlanInputs
    model_unit: dict[str, ModelUnitInputs]
    models: dict[str, ModelPlan]


class ModelUnitInputs(TypedDict):
    input_tpm: int  # tokens per minute one model unit processes, input (+ cache write)
    output_tpm: int
    source: Literal["--model-unit-tpm", "default"]


class PlanDocument(TypedDict):
    schema_version: int
    plan: PlanBody
