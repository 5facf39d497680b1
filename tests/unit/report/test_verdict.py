"""The verdict: each model against each requirement, and the cost-latency-quality front."""

from __future__ import annotations

import pytest

from loadgen.config.thresholds import parse_check
from loadgen.report.verdict import build_verdict, pareto_front
from tests.factories import make_model_section

MODELS = {
    "lite": make_model_section(quality=0.55, ttft_p95=420, ttlt_p95=1800, cost_per_1k=0.08),
    "pro": make_model_section(quality=0.78, ttft_p95=650, ttlt_p95=3100, cost_per_1k=1.09),
    "sonnet": make_model_section(quality=0.80, ttft_p95=1200, ttlt_p95=5700, cost_per_1k=5.25),
    # worse than pro
    "slow-pro": make_model_section(quality=0.70, ttft_p95=900, ttlt_p95=4000, cost_per_1k=1.50),
}
REQUIREMENTS = [
    parse_check(text)
    for text in ("ttft_p95 <= 1s", "ttlt_p95 <= 6s", "quality >= 0.7", "cost_per_1k <= 2.00")
]


def test_each_model_meets_or_misses_each_requirement_with_the_measured_value() -> None:
    verdict = build_verdict(REQUIREMENTS, MODELS)
    missed = {
        model: [r["check"] for r in data["requirements"] if not r["passed"]]
        for model, data in verdict["models"].items()
    }
    assert missed == {
        "lite": ["quality >= 0.7"],
        "pro": [],
        "sonnet": ["ttft_p95 <= 1s", "cost_per_1k <= 2.00"],
        "slow-pro": [],
    }
    assert verdict["meeting_all"] == ["pro", "slow-pro"]
    sonnet = verdict["models"]["sonnet"]
    assert (sonnet["met"], sonnet["missed"], sonnet["meets_all"]) == (2, 2, False)
    measured = {r["check"]: r["measured"] for r in sonnet["requirements"]}
    assert measured == {
        "ttft_p95 <= 1s": 1200,
        "ttlt_p95 <= 6s": 5700,
        "quality >= 0.7": 0.80,
        "cost_per_1k <= 2.00": 5.25,
    }
    assert sonnet["cost_per_1k_answered_usd"] == 5.25
    assert sonnet["ttlt_p50_ms"] == 2850
    assert verdict["requirements"] == [c.text for c in REQUIREMENTS]


def test_a_requirement_for_one_model_applies_to_that_model_only() -> None:
    only_lite = parse_check("quality >= 0.9", model="lite")
    verdict = build_verdict([only_lite], MODELS)
    assert verdict["models"]["lite"]["missed"] == 1
    assert verdict["models"]["pro"]["requirements"] == []
    assert verdict["models"]["pro"]["meets_all"]


def test_a_model_without_data_misses_the_requirement_and_says_why() -> None:
    models = {
        **MODELS,
        "unscored": make_model_section(quality=None, ttft_p95=400, ttlt_p95=1000, cost_per_1k=0.01),
    }
    result = build_verdict(REQUIREMENTS, models)["models"]["unscored"]["requirements"][2]
    assert (result["passed"], result["measured"], result["reason"]) == (
        False,
        None,
        "no data for this metric",
    )


def test_pareto_front_on_cost_latency_and_quality() -> None:
    axes, front = pareto_front(MODELS)
    assert axes == ["cost_per_1k", "ttlt_p95_ms", "quality_mean"]
    # slow-pro costs more, is slower and scores lower than pro: dominated.
    assert front == ["lite", "pro", "sonnet"]


@pytest.mark.parametrize("missing", ["cost", "quality"])
def test_an_axis_nobody_has_is_left_out(missing: str) -> None:
    models = {name: {**data, missing: None} for name, data in MODELS.items()}
    axes, front = pareto_front(models)
    assert len(axes) == 2
    if missing == "quality":  # cost and latency only: each faster model is also cheaper
        assert front == ["lite"]
    else:  # latency and quality
        assert front == ["lite", "pro", "sonnet"]
