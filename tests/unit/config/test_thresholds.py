"""The check language: parsed to the report's units, applied to each model. `loadgen run` exiting
99 when a threshold fails: tests/e2e/test_thresholds.py."""

from __future__ import annotations

import pytest

from loadgen.config.thresholds import evaluate, parse_check, report_section
from loadgen.core.errors import ConfigError
from tests.conftest import ScenarioFactory
from tests.factories import make_model_section


@pytest.mark.parametrize(
    ("text", "metric", "stat", "op", "limit"),
    [
        ("ttft.p95 < 800ms", "ttft", "p95", "<", 800.0),
        ("ttft_p95 <= 1s", "ttft", "p95", "<=", 1000.0),
        ("ttlt.p99<6.5s", "ttlt", "p99", "<", 6500.0),
        ("itl.p50 < 250us", "itl", "p50", "<", 0.25),
        ("ttft < 900", "ttft", "p95", "<", 900.0),  # default stat; bare number is ms
        ("error_rate < 1%", "error_rate", None, "<", 0.01),
        ("throttle_rate <= 0.005", "throttle_rate", None, "<=", 0.005),
        ("cost_per_1k <= $2.00", "cost_per_1k", None, "<=", 2.0),
        ("quality >= 0.8", "quality", "mean", ">=", 0.8),
        ("quality.p10 > .5", "quality", "p10", ">", 0.5),
        ("output_tokens_per_s >= 50", "output_tokens_per_s", None, ">=", 50.0),
    ],
)
def test_checks_parse_to_the_reports_units(
    text: str, metric: str, stat: str | None, op: str, limit: float
) -> None:
    check = parse_check(text)
    assert (check.metric, check.stat, check.op) == (metric, stat, op)
    assert check.limit == pytest.approx(limit)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ttft.p95 800ms", "write `metric[.stat]"),
        ("latency.p95 < 1s", "unknown metric 'latency'"),
        ("ttft.p42 < 1s", "takes no statistic 'p42'"),
        ("ttft.p95 < 1h", "unknown time unit 'h'"),
        ("error_rate < 5ms", "a rate takes %"),
        ("error_rate < 150%", "a rate above 100 %"),
        ("ttft.p95 < $3", "is money"),
        ("output_tokens_per_s > fast", "expected a number"),
    ],
)
def test_bad_checks_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace(".", r"\.")):
        parse_check(text)


def test_each_check_applies_to_each_model_or_the_one_it_names() -> None:
    models = {
        "fast": make_model_section(ttft_p95=300.0, error_rate=0.0),
        "slow": make_model_section(ttft_p95=1200.0, error_rate=0.02),
    }
    checks = [
        parse_check("ttft.p95 < 1s"),
        parse_check("error_rate < 1%", model="slow"),
        parse_check("cost_per_1k < 2"),
    ]
    outcomes = {(o.check.text, o.model): o for o in evaluate(checks, models)}
    assert len(outcomes) == 5
    assert outcomes[("ttft.p95 < 1s", "fast")].passed
    assert not outcomes[("ttft.p95 < 1s", "slow")].passed
    assert not outcomes[("error_rate < 1%", "slow")].passed
    # no cost figure (unpriced): no evidence that it holds, so it fails and says why
    unpriced = outcomes[("cost_per_1k < 2", "fast")]
    assert not unpriced.passed and unpriced.to_json()["reason"] == "no data for this metric"
    section = report_section(list(outcomes.values()))
    assert section["passed"] is False and section["failed"] == 4


def test_a_threshold_must_name_a_model_of_the_scenario(make_scenario: ScenarioFactory) -> None:
    with pytest.raises(ConfigError, match="names model 'other'"):
        make_scenario(thresholds=[{"check": "ttft.p95 < 1s", "model": "other"}])
    with pytest.raises(ConfigError, match=r"thresholds\.0\.check: .*unknown metric"):
        make_scenario(thresholds=["latency < 1s"])
