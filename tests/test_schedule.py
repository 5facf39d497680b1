"""Arrival schedules checked without sleeping: rate, spacing, determinism."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from loadgen.schedule import WeightedRoundRobin, arrival_offsets_ns


def _gaps(arrival: str, rate: float, seed: int, count: int) -> np.ndarray:
    offsets = list(itertools.islice(arrival_offsets_ns(arrival, rate, seed), count))  # type: ignore[arg-type]
    return np.diff(np.array(offsets, dtype=np.float64))


def test_constant_is_constant() -> None:
    gaps = _gaps("constant", 20.0, 1, 2000)
    assert gaps.mean() == pytest.approx(50e6, rel=1e-9)
    assert gaps.std() / gaps.mean() < 1e-6  # coefficient of variation ≈ 0


def test_constant_has_no_drift_over_a_long_run() -> None:
    offsets = arrival_offsets_ns("constant", 3.0, 0)
    millionth = next(itertools.islice(offsets, 1_000_000, None))
    assert millionth == round(1_000_000 * 1e9 / 3.0)


def test_poisson_rate_and_spacing() -> None:
    gaps = _gaps("poisson", 50.0, 7, 20_001)
    assert 1e9 / gaps.mean() == pytest.approx(50.0, rel=0.03)
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, abs=0.05)  # CV ≈ 1 for exponential
    # Independent gaps: no gap repeats the one before (the bug of identically seeded workers).
    assert int(np.sum(gaps[1:] == gaps[:-1])) == 0
    # And consecutive gaps are uncorrelated.
    assert abs(np.corrcoef(gaps[1:], gaps[:-1])[0, 1]) < 0.05


def test_poisson_is_seeded() -> None:
    first = list(itertools.islice(arrival_offsets_ns("poisson", 5.0, 3), 100))
    again = list(itertools.islice(arrival_offsets_ns("poisson", 5.0, 3), 100))
    other = list(itertools.islice(arrival_offsets_ns("poisson", 5.0, 4), 100))
    assert first == again
    assert first != other


def test_poisson_offsets_increase_across_blocks() -> None:
    offsets = list(itertools.islice(arrival_offsets_ns("poisson", 1000.0, 1), 10_000))
    assert offsets[0] == 0
    assert all(b >= a for a, b in itertools.pairwise(offsets))


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError, match="rate"):
        arrival_offsets_ns("constant", 0, 0)


def test_weighted_round_robin_shares() -> None:
    picker = WeightedRoundRobin(["a", "b", "c"], [1, 1, 2])
    picks = [picker.next() for _ in range(400)]
    assert Counter(picks) == {"a": 100, "b": 100, "c": 200}
    # Smooth: within any window of 4, each model appears in proportion (no bursts of one).
    assert all(Counter(picks[i : i + 4]) == {"a": 1, "b": 1, "c": 2} for i in range(0, 400, 4))
