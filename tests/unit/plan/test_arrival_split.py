"""Splitting one arrival schedule among workers, as a pure function (no processes, no sleeps)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from loadgen.plan.arrival_split import worker_share
from loadgen.plan.schedule import arrival_offsets_ns

N = 20_000


def shares(arrival: str, workers: int, rate: float, seed: int) -> list[list[tuple[int, int]]]:
    def indexed() -> list[tuple[int, int]]:
        offsets = arrival_offsets_ns(arrival, rate, seed)  # type: ignore[arg-type]
        return list(enumerate(itertools.islice(offsets, N)))

    return [
        list(worker_share(iter(indexed()), arrival, k, workers, seed, lambda item: item[0]))  # type: ignore[arg-type]
        for k in range(workers)
    ]


def cv(offsets: list[int]) -> float:
    gaps = np.diff(np.array(sorted(offsets), dtype=float))
    return float(gaps.std() / gaps.mean())


@pytest.mark.parametrize("workers", [1, 2, 3, 7])
@pytest.mark.parametrize("arrival", ["constant", "poisson"])
def test_the_union_is_the_single_process_schedule(arrival: str, workers: int) -> None:
    parts = shares(arrival, workers, 500.0, 11)
    union = sorted(item for part in parts for item in part)
    single = list(enumerate(itertools.islice(arrival_offsets_ns(arrival, 500.0, 11), N)))  # type: ignore[arg-type]
    assert union == single  # every request once, in one worker only
    assert sum(len(p) for p in parts) == N


def test_constant_shares_are_evenly_spaced_with_phase_offsets() -> None:
    parts = shares("constant", 4, 1000.0, 1)
    for k, part in enumerate(parts):
        offsets = [offset for _, offset in part]
        assert offsets[0] == k * 1_000_000  # worker k starts k periods in
        assert cv(offsets) < 1e-3
        assert np.mean(np.diff(offsets)) == pytest.approx(4_000_000, rel=1e-6)
    union = [offset for part in parts for _, offset in part]
    assert cv(union) < 1e-3


def test_poisson_shares_are_poisson_at_their_share_of_the_rate() -> None:
    parts = shares("poisson", 3, 900.0, 5)
    for part in parts:
        offsets = [offset for _, offset in part]
        assert len(offsets) == pytest.approx(N / 3, rel=0.05)
        assert cv(offsets) == pytest.approx(1.0, abs=0.05)  # exponential gaps
        assert 1e9 / np.mean(np.diff(offsets)) == pytest.approx(300, rel=0.05)
    union = [offset for part in parts for _, offset in part]
    assert cv(union) == pytest.approx(1.0, abs=0.05)


def test_shares_skip_indices_the_plan_left_out() -> None:
    # A plan may skip indices (a filter upstream): ownership still follows the index.
    items = [(i, i) for i in range(0, 100, 3)]
    odd = list(worker_share(iter(items), "constant", 1, 2, 0, lambda item: item[0]))
    assert [i for i, _ in odd] == [i for i in range(0, 100, 3) if i % 2 == 1]


def test_a_worker_outside_the_range_is_refused() -> None:
    with pytest.raises(ValueError, match="worker must be"):
        list(worker_share(iter([]), "constant", 2, 2, 0, lambda item: item))
