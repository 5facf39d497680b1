"""The confidence interval of a Poisson count: how far a rate measured from n events in a
window can be from the true one.

A stage's completions are counted over a window of a few seconds; at ~10 requests the count
alone varies by ±60 % from stage to stage, so "throughput < 90 % of offered" read off the
point estimate fires on noise. The interval says which rates the count is compatible with.

The interval is the exact (Garwood) one: the means μ for which the observed count is not in
either tail of Poisson(μ) beyond (1 - confidence) / 2. Poisson tails are regularized
incomplete gamma functions (P(X ≤ n; μ) = Q(n + 1, μ)), computed here by their series and
continued fraction (Numerical Recipes, 6.2), and inverted by bisection: no scipy needed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

_EPSILON = 1e-15
_MAX_TERMS = 100_000
_TINY = 1e-300
_BISECTIONS = 200


def poisson_interval(count: int, confidence: float = 0.95) -> tuple[float, float]:
    """Two-sided `confidence` interval of the mean of a Poisson variable observed as `count`."""
    if count < 0:
        raise ValueError(f"a count is 0 or more, got {count}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence is between 0 and 1, got {confidence}")
    tail = (1 - confidence) / 2
    # P(X <= count; μ) falls as μ grows: the upper bound is where it is down to `tail`.
    upper = _solve(lambda mu: _upper_gamma(count + 1, mu) - tail, count)
    if count == 0:
        return 0.0, upper
    # P(X >= count; μ) rises with μ: the lower bound is where it reaches `tail`.
    lower = _solve(lambda mu: tail - _lower_gamma(count, mu), count)
    return lower, upper


def rate_interval(count: int, window_s: float, confidence: float = 0.95) -> tuple[float, float]:
    """The interval of a rate (events per second) counted as `count` over `window_s`."""
    if window_s <= 0:
        raise ValueError(f"a window is longer than 0 s, got {window_s}")
    low, high = poisson_interval(count, confidence)
    return low / window_s, high / window_s


def _solve(falling: Callable[[float], float], count: int) -> float:
    """The μ where `falling` (positive below it, negative above) crosses zero."""
    low, high = 0.0, count + 20 * math.sqrt(count + 1) + 20  # far beyond any bound
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2
        if falling(middle) > 0:
            low = middle
        else:
            high = middle
        if high - low <= _EPSILON * max(high, 1.0):
            break
    return (low + high) / 2


def _lower_gamma(a: float, x: float) -> float:
    """The regularized lower incomplete gamma function P(a, x)."""
    if x <= 0:
        return 0.0
    if x >= a + 1:
        return 1.0 - _continued_fraction(a, x)
    term = total = 1.0 / a
    denominator = a
    for _ in range(_MAX_TERMS):
        denominator += 1
        term *= x / denominator
        total += term
        if abs(term) < abs(total) * _EPSILON:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _upper_gamma(a: float, x: float) -> float:
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    if x <= 0:
        return 1.0
    if x < a + 1:
        return 1.0 - _lower_gamma(a, x)
    return _continued_fraction(a, x)


def _continued_fraction(a: float, x: float) -> float:
    """Q(a, x) for x >= a + 1, by the modified Lentz method."""
    b = x + 1 - a
    c = 1 / _TINY
    d = 1 / b
    fraction = d
    for i in range(1, _MAX_TERMS):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1 / d
        step = d * c
        fraction *= step
        if abs(step - 1) < _EPSILON:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * fraction
