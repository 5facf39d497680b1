"""The exact (Garwood) interval of a Poisson count, against published table values and
against the Poisson tails it is defined by."""

from __future__ import annotations

import math

import pytest

from loadgen.capacity.poisson import poisson_interval, rate_interval

# 95 % limits for a Poisson count (Garwood 1936; e.g. the tables of Ulm 1990 or of any
# statistics handbook), to the digits they print.
PUBLISHED = {
    0: (0.0, 3.689),
    1: (0.0253, 5.572),
    2: (0.242, 7.225),
    5: (1.623, 11.668),
    10: (4.795, 18.390),
    100: (81.364, 121.627),
}


def _cdf(count: int, mean: float) -> float:
    """P(X <= count) for X ~ Poisson(mean), summed term by term in log space."""
    return sum(math.exp(k * math.log(mean) - mean - math.lgamma(k + 1)) for k in range(count + 1))


@pytest.mark.parametrize(("count", "limits"), PUBLISHED.items())
def test_the_interval_is_the_published_garwood_interval(
    count: int, limits: tuple[float, float]
) -> None:
    low, high = poisson_interval(count, 0.95)
    assert low == pytest.approx(limits[0], abs=1e-3, rel=1e-3)
    assert high == pytest.approx(limits[1], rel=1e-3)


@pytest.mark.parametrize("count", [1, 3, 7, 30, 400, 2500])
@pytest.mark.parametrize("confidence", [0.9, 0.95, 0.99])
def test_each_bound_leaves_its_tail_of_the_poisson_distribution(
    count: int, confidence: float
) -> None:
    low, high = poisson_interval(count, confidence)
    tail = (1 - confidence) / 2
    assert _cdf(count, high) == pytest.approx(tail, rel=1e-6)
    assert 1 - _cdf(count - 1, low) == pytest.approx(tail, rel=1e-6)


def test_the_interval_narrows_relative_to_the_count_as_it_grows() -> None:
    widths = [
        (high - low) / n for n in (10, 100, 400, 10_000) for low, high in [poisson_interval(n)]
    ]
    assert widths == sorted(widths, reverse=True)
    low, high = poisson_interval(400)
    assert 0.09 < (400 - low) / 400 < 0.1 and 0.1 < (high - 400) / 400 < 0.11


def test_a_rate_interval_is_the_count_interval_over_the_window() -> None:
    low, high = poisson_interval(37)
    assert rate_interval(37, 4.0) == pytest.approx((low / 4, high / 4))
    with pytest.raises(ValueError):
        rate_interval(3, 0.0)
    with pytest.raises(ValueError):
        poisson_interval(-1)
