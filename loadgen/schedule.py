"""Arrival schedules: when each request should leave, as offsets from the run's start.

Schedules are pure: the offsets depend only on the arrival kind, the rate and the seed, so
tests check rate and spacing without sleeping, and the runner sleeps to absolute instants
(t0 + offset) rather than chaining relative sleeps that would let lateness accumulate.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np

Arrival = Literal["constant", "poisson"]
_BLOCK = 4096  # gaps drawn per numpy call: cheap per request, bounded memory


def arrival_offsets_ns(arrival: Arrival, rate: float, seed: int) -> Iterator[int]:
    """Endless offsets in nanoseconds from t0; the first request leaves at 0."""
    if rate <= 0:
        raise ValueError(f"rate must be > 0, got {rate}")
    if arrival == "constant":
        return _constant(rate)
    if arrival == "poisson":
        return _poisson(rate, seed)
    raise ValueError(f"unknown arrival {arrival!r}; use constant or poisson")


def _constant(rate: float) -> Iterator[int]:
    # Each offset is computed from its index, never by adding gaps, so no rounding drift.
    period = 1e9 / rate
    index = 0
    while True:
        yield round(index * period)
        index += 1


def _poisson(rate: float, seed: int) -> Iterator[int]:
    # One generator for the whole run: gaps are independent exponentials with mean 1/rate.
    rng = np.random.default_rng(seed)
    elapsed = 0.0
    yield 0
    while True:
        gaps = rng.exponential(1e9 / rate, size=_BLOCK)
        for instant in np.cumsum(gaps) + elapsed:
            yield round(float(instant))
        elapsed += float(gaps.sum())


class WeightedRoundRobin:
    """Spreads requests over models in proportion to their weights, deterministically.

    Smooth weighted round robin (as nginx does): over any window each model's share is within
    one request of its weight's share, and there is no randomness to seed.
    """

    def __init__(self, names: Sequence[str], weights: Sequence[float]) -> None:
        if len(names) != len(weights) or not names:
            raise ValueError("need one weight per name, and at least one name")
        self._names = list(names)
        self._weights = list(weights)
        self._total = float(sum(weights))
        self._current = [0.0] * len(names)

    def next(self) -> str:
        for i, weight in enumerate(self._weights):
            self._current[i] += weight
        best = max(range(len(self._current)), key=self._current.__getitem__)
        self._current[best] -= self._total
        return self._names[best]
