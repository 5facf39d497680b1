"""Token counts drawn from dataset.synthetic's distributions (loadgen/plan/token_shapes.py)."""

from __future__ import annotations

import random
import statistics
from collections import Counter
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from loadgen.config.synthetic_spec import Distribution, SyntheticSpec
from loadgen.plan.token_shapes import draw, token_shapes

_DISTRIBUTION: TypeAdapter[Any] = TypeAdapter(Distribution)


def _draws(spec: object, count: int = 20_000, limit: int = 1_000_000) -> list[int]:
    distribution = _DISTRIBUTION.validate_python(spec)
    rng = random.Random(11)
    return [draw(distribution, rng, limit) for _ in range(count)]


def test_a_bare_count_is_fixed() -> None:
    assert set(_draws(2000, count=10)) == {2000}


def test_uniform_covers_its_range_and_no_more() -> None:
    values = _draws({"distribution": "uniform", "min": 10, "max": 14})
    assert set(values) == {10, 11, 12, 13, 14}


def test_normal_has_its_mean_and_spread() -> None:
    values = _draws({"distribution": "normal", "mean": 1000, "stddev": 100})
    assert statistics.fmean(values) == pytest.approx(1000, rel=0.01)
    assert statistics.stdev(values) == pytest.approx(100, rel=0.05)


def test_a_normal_draw_is_never_below_one() -> None:
    assert min(_draws({"distribution": "normal", "mean": 2, "stddev": 50})) >= 1


def test_lognormal_has_its_median_and_p99() -> None:
    values = sorted(_draws({"distribution": "lognormal", "median": 2000, "p99": 8000}))
    assert values[len(values) // 2] == pytest.approx(2000, rel=0.03)
    assert values[int(len(values) * 0.99)] == pytest.approx(8000, rel=0.08)


def test_a_histogram_draws_by_its_weights() -> None:
    values = _draws({"distribution": "histogram", "values": [100, 900], "weights": [3, 1]})
    counts = Counter(values)
    assert set(counts) == {100, 900}
    assert counts[100] / len(values) == pytest.approx(0.75, abs=0.02)


def test_draws_are_capped_at_the_limit() -> None:
    assert max(_draws({"distribution": "uniform", "min": 1, "max": 500}, limit=50)) == 50


def test_the_same_seed_draws_the_same_shapes() -> None:
    spec = SyntheticSpec.model_validate(
        {"input": {"distribution": "lognormal", "median": 500, "p99": 3000}, "output": 200}
    )
    assert token_shapes(spec, 4) == token_shapes(spec, 4)
    assert token_shapes(spec, 4) != token_shapes(spec, 5)
    assert len(token_shapes(spec, 4)) == spec.count


def test_changing_output_leaves_the_input_draws() -> None:
    base = {"input": {"distribution": "uniform", "min": 1, "max": 9000}, "count": 50}
    one = token_shapes(SyntheticSpec.model_validate({**base, "output": 100}), 1)
    two = token_shapes(
        SyntheticSpec.model_validate(
            {**base, "output": {"distribution": "uniform", "min": 1, "max": 99}}
        ),
        1,
    )
    assert [s.input_tokens for s in one] == [s.input_tokens for s in two]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"distribution": "uniform", "min": 5, "max": 4}, "below min"),
        ({"distribution": "lognormal", "median": 500, "p99": 100}, "below the median"),
        ({"distribution": "histogram", "values": [1, 2], "weights": [1]}, "one weight per value"),
        ({"distribution": "histogram", "values": [1], "weights": [0]}, "add up to 0"),
        ({"distribution": "zipf", "value": 3}, "distribution"),
        (0, "greater than or equal to 1"),
    ],
)
def test_bad_distributions_are_refused(spec: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _DISTRIBUTION.validate_python(spec)


def test_counts_over_the_limits_are_refused() -> None:
    with pytest.raises(ValidationError, match="over the limit of 200,000"):
        SyntheticSpec.model_validate({"input": 100, "output": 300_000})
