"""One grammar for `thresholds:` and `requirements:` (loadgen/config/thresholds.py): both
spellings of a statistic read the same in both sections, and nothing is read two ways."""

from __future__ import annotations

import pytest

from loadgen.config.thresholds import METRICS, parse_check
from loadgen.core.errors import ConfigError
from tests.conftest import ScenarioFactory


def _reading(text: str) -> tuple[str, str | None, str, float]:
    check = parse_check(text)
    return check.metric, check.stat, check.op, check.limit


@pytest.mark.parametrize(
    ("dotted", "underscored"),
    [
        ("ttft.p95 <= 1s", "ttft_p95 <= 1s"),
        ("ttlt_response.p99 < 6s", "ttlt_response_p99 < 6s"),
        ("cost_per_request.p99 <= $0.01", "cost_per_request_p99 <= $0.01"),
        ("quality.p10 >= 0.5", "quality_p10 >= 0.5"),
    ],
)
def test_both_spellings_read_the_same(dotted: str, underscored: str) -> None:
    assert _reading(dotted) == _reading(underscored)


def test_thresholds_and_requirements_take_the_same_checks(make_scenario: ScenarioFactory) -> None:
    checks = ["ttft.p95 < 800ms", "ttft_p99 <= 1s", "error_rate < 1%", "quality >= 0.7"]
    scenario = make_scenario(thresholds=checks, requirements=checks)
    as_thresholds = [_reading(spec.check) for spec in scenario.thresholds]
    as_requirements = [_reading(spec.check) for spec in scenario.requirements]
    assert as_thresholds == as_requirements
    assert as_thresholds[1][:2] == ("ttft", "p99")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ttft_p95.p99 < 1s", "gives two statistics, 'p95' and 'p99'"),
        ("error_rate_p95 < 1%", "'error_rate' takes no statistic 'p95'"),
        ("ttft_p42 < 1s", "'ttft' takes no statistic 'p42'"),
    ],
)
def test_a_check_that_could_be_read_two_ways_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_check(text)


def test_a_refused_check_names_its_section(make_scenario: ScenarioFactory) -> None:
    with pytest.raises(ConfigError, match="requirements"):
        make_scenario(requirements=["ttft_p95.p99 < 1s"])


def test_no_metric_name_reads_as_another_metric_with_a_statistic() -> None:
    # What keeps `metric_stat` unambiguous: checked when the module loads, asserted here too.
    for name in METRICS:
        head, _, tail = name.rpartition("_")
        assert not (head in METRICS and tail in METRICS[head].stats), name
