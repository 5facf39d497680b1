"""plan.json: every model's plan from the runs read, the target and the prices, and the monthly
bill of each option over a range of peaks (what plan.html draws)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loadgen.core.errors import ConfigError
from loadgen.cost.burndown import BurndownBook
from loadgen.cost.pricing import DEFAULT_REGION, PriceBook, ResolvedPrice
from loadgen.planning.build import plan_model
from loadgen.planning.measured import GivenQuota, Measured, find_runs, measure, models_of
from loadgen.planning.schema import (
    PLAN_SCHEMA_VERSION,
    ModelPlan,
    ModelUnitInputs,
    OptionName,
    PlanDocument,
)
from loadgen.planning.target import ModelUnit, QuotaOption, Target
from loadgen.report.saved_run import SavedRun

CURVE_POINTS = 121  # samples of each bill against the peak, for the chart


@dataclass(frozen=True)
class PlanRequest:
    """Everything `loadgen plan` was given."""

    sources: Sequence[Path]
    target: Target
    region: str | None = None
    max_tokens: int | None = None  # what a request reserves, where no run recorded it
    units: ModelUnit = field(default_factory=ModelUnit)
    units_by_model: dict[str, ModelUnit] = field(default_factory=dict)
    quota: QuotaOption | None = None
    quota_by_model: dict[str, QuotaOption] = field(default_factory=dict)
    prices_path: Path | None = None


@dataclass(frozen=True)
class Plan:
    document: PlanDocument
    # Per model: peaks (requests/s) and each option's monthly bill at each (None: no price).
    curves: dict[str, tuple[list[float], dict[OptionName, list[float | None]]]]


def make_plan(request: PlanRequest) -> Plan:
    runs = find_runs(request.sources)
    book = PriceBook.builtin()
    if request.prices_path is not None:
        book = book.with_quotes(request.prices_path)
    region = request.region or _region_of_runs(runs) or DEFAULT_REGION
    models = models_of(runs)
    prices = {model: book.resolve(model, region) for model in models}
    thresholds = {
        model: None
        if price is None or price.prices.long_context is None
        else price.prices.long_context.above_input_tokens
        for model, price in prices.items()
    }
    measured = measure(runs, thresholds)
    _check(measured, request)
    burndowns = BurndownBook.builtin()
    plans: dict[str, ModelPlan] = {}
    curves: dict[str, tuple[list[float], dict[OptionName, list[float | None]]]] = {}
    units: dict[str, ModelUnitInputs] = {}
    for model, entry in measured.items():
        if request.max_tokens is not None:
            entry.max_tokens = max(entry.max_tokens or 0, request.max_tokens)
        unit = request.units_by_model.get(model, request.units)
        units[model] = {
            "input_tpm": unit.input_tpm,
            "output_tpm": unit.output_tpm,
            "source": "--model-unit-tpm" if unit.given else "default",
        }
        quota = _quota(entry, request)
        burndown = burndowns.resolve(model).rate
        plans[model] = plan = plan_model(
            entry, prices[model], burndown, request.target, unit, quota
        )
        curves[model] = _curves(entry, prices[model], burndown, request.target, unit, quota, plan)
    document: PlanDocument = {
        "schema_version": PLAN_SCHEMA_VERSION,
        "plan": {
            "inputs": {
                "sources": [run.label for run in runs],
                "region": region,
                "target": {
                    "peak_rps": request.target.peak_rps,
                    "peak_tpm": request.target.peak_tpm,
                    "hours_per_day": request.target.hours_per_day,
                    "days_per_month": request.target.days_per_month,
                    "deferrable_share": request.target.deferrable_share,
                    "hours_per_month": request.target.hours_per_month,
                },
                "prices_file": None if request.prices_path is None else str(request.prices_path),
            },
            "model_unit": units,
            "models": plans,
        },
    }
    return Plan(document, curves)


def _region_of_runs(runs: Sequence[SavedRun]) -> str | None:
    for run in runs:
        region = run.report["run"]["target"].get("region")
        if region:
            return region
    return None


def _check(measured: dict[str, Measured], request: PlanRequest) -> None:
    problems = []
    for model, entry in measured.items():
        if entry.totals.requests == 0:
            problems.append(f"{model}: no successful measured request with usage to plan from")
        elif entry.max_tokens is None and request.max_tokens is None:
            problems.append(
                f"{model}: its runs do not say what max_tokens each request reserved (a report "
                "before schema_version 3): give it with --max-tokens"
            )
    if problems:
        raise ConfigError(problems, "loadgen plan")


def _quota(entry: Measured, request: PlanRequest) -> GivenQuota | None:
    given = request.quota_by_model.get(entry.model, request.quota)
    if given is not None:
        return GivenQuota(given.tpm, given.tpd, given.rpm, "--quota")
    return entry.quota


def _curves(
    entry: Measured,
    price: ResolvedPrice | None,
    burndown: float,
    target: Target,
    unit: ModelUnit,
    quota: GivenQuota | None,
    plan: ModelPlan,
) -> tuple[list[float], dict[OptionName, list[float | None]]]:
    """Each option's monthly bill from no load to past the target and every break-even, by
    planning again at each peak: the chart and the table cannot disagree."""
    peak = plan["load"]["peak_rps"]
    evens = [b["break_even_rps"] or 0.0 for b in plan["options"].values()]
    top = max(2 * peak, 1.25 * max(evens, default=0.0))
    peaks = [top * i / (CURVE_POINTS - 1) for i in range(1, CURVE_POINTS)]
    bills: dict[OptionName, list[float | None]] = {name: [] for name in plan["options"]}
    for load in peaks:
        at = plan_model(
            entry,
            price,
            burndown,
            dataclasses.replace(target, peak_rps=load, peak_tpm=None),
            unit,
            quota,
        )
        for name, bill in at["options"].items():
            bills[name].append(bill["monthly_usd"])
    return peaks, bills
