"""Cost on emulated runs of the shipped email scenario: totals, a hand check, the budget."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from loadgen.config.scenario import load_scenario
from loadgen.core.errors import ConfigError
from loadgen.cost.price_check import resolve_prices
from loadgen.run import RunOptions, run_async
from tests.helpers import REPO

SCENARIO = REPO / "scenarios" / "email_summary.yaml"
# us-east-1 list prices, USD per 1M tokens (loadgen/pricing.yaml): input, output.
NOVA_LITE = (0.06, 0.24)


async def _emulated(
    tmp_path: Path, **load: Any
) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    overrides: dict[str, Any] = {"load": {"rate": 20, "arrival": "constant", **load}}
    if "cost" in load:
        overrides["cost"] = overrides["load"].pop("cost")
    scenario = load_scenario(SCENARIO, overrides)
    options = RunOptions(out_dir=tmp_path, emulate=True, quiet=True, console=Console(quiet=True))
    result = await run_async(scenario, options)
    samples = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    return result.exit_code, result.report, samples


async def test_report_totals_equal_the_samples_and_a_hand_computation(tmp_path: Path) -> None:
    exit_code, report, samples = await _emulated(tmp_path, requests=12, cost={"project_rps": 10})
    assert exit_code == 0
    for model, data in report["models"].items():
        # samples.jsonl holds each cost in whole nano-dollars: within half of one each.
        own = [s["cost_nusd"] / 1e9 for s in samples if s["model"] == model]
        assert data["cost"]["total_usd"] == pytest.approx(sum(own), abs=len(own) * 5e-10)
        assert data["cost"]["per_1k_sent_usd"] == pytest.approx(1000 * sum(own) / len(own))
        answered = data["requests"]["ok"]
        assert data["cost"]["per_1k_answered_usd"] == pytest.approx(1000 * sum(own) / answered)
        projection = data["cost"]["projection"]["at_project_rps"]
        assert projection["per_hour"] == pytest.approx(sum(own) / len(own) * 10 * 3600)
    lite = next(s for s in samples if s["model"] == "us.amazon.nova-lite-v1:0")
    by_hand = lite["input_tokens"] * NOVA_LITE[0] / 1e6 + lite["output_tokens"] * NOVA_LITE[1] / 1e6
    assert lite["cost_nusd"] == round(by_hand * 1e9)
    assert report["run"]["cost"]["prices"]["us.amazon.nova-lite-v1:0"]["catalogue_id"] == (
        "amazon.nova-lite-v1:0"
    )
    assert [row["model"] for row in report["comparison"]] == list(report["models"])


async def test_budget_guard_stops_within_the_budget(tmp_path: Path) -> None:
    budget = 0.05
    exit_code, report, samples = await _emulated(tmp_path, duration="20s", cost={"max_usd": budget})
    assert exit_code == 3
    assert report["run"]["status"] == "aborted"
    assert "budget" in report["run"]["status_reason"]
    spent = sum(s["cost_nusd"] for s in samples) / 1e9
    assert spent <= budget
    assert report["run"]["cost"]["spent_usd"] == pytest.approx(spent, abs=len(samples) * 5e-10)
    assert len(samples) < 20 * 20  # it stopped well before the end of the schedule


def test_unknown_model_refuses_to_start_unless_allowed() -> None:
    unknown = load_scenario(SCENARIO, {"models": ["made.up-model"]})
    with pytest.raises(ConfigError, match=r"no price is known for made\.up-model") as caught:
        resolve_prices(unknown, "us-east-1")
    assert "pricing:" in str(caught.value) and "--allow-unpriced" in str(caught.value)
    allowed = load_scenario(
        SCENARIO, {"models": ["made.up-model"], "cost": {"allow_unpriced": True}}
    )
    assert resolve_prices(allowed, "us-east-1") == {"made.up-model": None}
    budgeted = load_scenario(
        SCENARIO,
        {"models": ["made.up-model"], "cost": {"allow_unpriced": True, "max_usd": 1}},
    )
    with pytest.raises(ConfigError, match="budget"):
        resolve_prices(budgeted, "us-east-1")
