"""Arrival schedules checked without sleeping: rate, spacing, determinism."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from loadgen.plan.schedule import (
    RateProfile,
    Segment,
    WeightedRoundRobin,
    arrival_offsets_ns,
    gamma_offsets_ns,
    shaped_offsets_ns,
)


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


# --- shaped load: ramp, stages, gamma (virtual time: offsets only) ---------------------------


def _offsets_s(profile: RateProfile, arrival: str, seed: int = 1, cv: float = 1.0) -> np.ndarray:
    offsets = list(shaped_offsets_ns(profile, arrival, seed, cv))  # type: ignore[arg-type]
    return np.array(offsets, dtype=np.float64) / 1e9


@pytest.mark.parametrize(("cv", "seed"), [(0.5, 1), (2.0, 2), (3.0, 3)])
def test_gamma_gaps_have_the_asked_rate_and_cv(cv: float, seed: int) -> None:
    gaps = np.diff(list(itertools.islice(gamma_offsets_ns(40.0, cv, seed), 40_001)))
    assert 1e9 / gaps.mean() == pytest.approx(40.0, rel=0.04)
    # CV of gamma gaps is 1/sqrt(shape); the scenario gives the CV itself.
    assert gaps.std() / gaps.mean() == pytest.approx(cv, rel=0.06)
    assert abs(np.corrcoef(gaps[1:], gaps[:-1])[0, 1]) < 0.05


def test_gamma_with_cv_1_is_as_variable_as_poisson() -> None:
    gaps = np.diff(list(itertools.islice(gamma_offsets_ns(10.0, 1.0, 5), 20_001)))
    assert gaps.std() / gaps.mean() == pytest.approx(1.0, abs=0.05)


@pytest.mark.parametrize("arrival", ["constant", "poisson", "gamma"])
def test_ramp_counts_per_window_follow_the_rate(arrival: str) -> None:
    # 2 → 202 req/s over 20 s: 2,040 requests, the rate rising by 10 req/s each second.
    profile = RateProfile([Segment(20.0, 2.0, 202.0)])
    offsets = _offsets_s(profile, arrival, cv=0.5)
    assert offsets.max() < 20.0
    counts, _ = np.histogram(offsets, bins=np.arange(0, 21, 2.0))
    for window, count in enumerate(counts):
        expected = profile.expected(2.0 * window, 2.0 * window + 2)
        # exact to a request for constant; within 4 sigma of Poisson noise otherwise
        slack = 1.5 if arrival == "constant" else 4 * np.sqrt(expected)
        assert abs(count - expected) <= slack, (window, count, expected)


def test_a_constant_ramp_has_gaps_of_one_over_the_rate_midway() -> None:
    profile = RateProfile([Segment(10.0, 10.0, 100.0)])
    offsets = _offsets_s(profile, "constant")
    gaps = np.diff(offsets)
    # A linear rate holds exactly one expected arrival between neighbours: gap × rate midway.
    midway = np.array([profile.rate_at(t) for t in (offsets[1:] + offsets[:-1]) / 2])
    assert np.allclose(gaps * midway, 1.0, rtol=1e-6)


def test_stages_hold_each_rate_and_switch_at_the_boundaries() -> None:
    profile = RateProfile(
        [Segment(2.0, 5.0, 5.0), Segment(1.0, 0.0, 0.0), Segment(3.0, 20.0, 20.0)]
    )
    offsets = _offsets_s(profile, "constant")
    first, pause, last = (
        offsets[offsets < 2],
        offsets[(offsets >= 2) & (offsets < 3)],
        offsets[offsets >= 3],
    )
    assert (len(first), len(pause), len(last)) == (10, 0, 60)
    assert np.allclose(np.diff(first), 0.2) and np.allclose(np.diff(last), 0.05)
    assert last[0] == pytest.approx(3.0) and last[-1] < 6.0
    poisson = _offsets_s(profile, "poisson", seed=9)
    assert not np.any((poisson >= 2) & (poisson < 3))  # a 0 stage sends nothing
    assert poisson.max() < 6.0


def test_shaped_schedules_are_pure_functions_of_their_seed() -> None:
    profile = RateProfile([Segment(5.0, 1.0, 50.0)])
    assert list(shaped_offsets_ns(profile, "gamma", 3, 2.0)) == list(
        shaped_offsets_ns(profile, "gamma", 3, 2.0)
    )
    assert list(shaped_offsets_ns(profile, "gamma", 3, 2.0)) != list(
        shaped_offsets_ns(profile, "gamma", 4, 2.0)
    )


def test_bad_profiles_are_refused() -> None:
    with pytest.raises(ValueError, match="nothing would be sent"):
        RateProfile([Segment(1.0, 0.0, 0.0)])
    with pytest.raises(ValueError, match="only the last"):
        RateProfile([Segment(None, 1.0, 1.0), Segment(1.0, 1.0, 1.0)])
