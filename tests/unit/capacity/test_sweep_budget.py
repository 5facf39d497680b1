"""A sweep's one budget: each stage is given what the stages before it left."""

from __future__ import annotations

from typing import Any

from loadgen.capacity.budget import SweepBudget
from loadgen.capacity.sweep import stage_scenario
from loadgen.report.schema import Report
from tests.conftest import ScenarioFactory


def _stage_report(spent_usd: float | None) -> Report:
    report: Any = {"run": {"cost": {"spent_usd": spent_usd}}}
    return report  # only the part SweepBudget reads


def test_each_stage_gets_what_is_left_and_the_sweep_stops_when_nothing_is() -> None:
    budget = SweepBudget(1.0)
    assert budget.stage_budget_usd() == 1.0 and budget.spent_all() is None
    budget.book(_stage_report(0.25))
    budget.book(_stage_report(0.5))
    assert budget.stage_budget_usd() == 0.25 and budget.spent_all() is None
    budget.book(_stage_report(0.25))
    reason = budget.spent_all()
    assert reason is not None and "$1.0000 of $1 spent" in reason
    assert budget.to_json() == {"max_usd": 1.0, "spent_usd": 1.0}


def test_without_a_budget_nothing_is_counted_or_limited() -> None:
    budget = SweepBudget(None)
    budget.book(_stage_report(3.0))
    assert budget.stage_budget_usd() is None and budget.spent_all() is None
    assert budget.to_json() == {"max_usd": None, "spent_usd": None}


def test_a_stage_runs_with_the_budget_it_is_given(make_scenario: ScenarioFactory) -> None:
    scenario = make_scenario(cost={"max_usd": 5.0})
    assert stage_scenario(scenario, "fixed-model", 2.0, None, 1.25).cost.max_usd == 1.25
    assert stage_scenario(scenario, "fixed-model", 2.0).cost.max_usd == 5.0
