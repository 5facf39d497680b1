"""A worker's part of the scenario's limits: the in-flight cap and the connection pool are the
whole run's, split among the workers (the run itself: tests/e2e/test_workers.py)."""

from __future__ import annotations

from pathlib import Path

from loadgen.run import RunOptions
from loadgen.scale.share import part_of, share_scenario, share_spec
from tests.conftest import ScenarioFactory


def test_the_parts_add_up_to_the_whole_and_differ_by_one_at_most() -> None:
    for total in range(1, 60):
        for count in range(1, total + 1):
            parts = [part_of(total, k, count) for k in range(count)]
            assert sum(parts) == total, (total, count)
            assert max(parts) - min(parts) <= 1 and min(parts) >= 1
            assert parts == sorted(parts, reverse=True)  # the first workers take the extra
    assert [part_of(5, k, 2) for k in range(2)] == [3, 2]
    assert [part_of(200, k, 3) for k in range(3)] == [67, 67, 66]
    assert part_of(1, 1, 2) == 1  # never 0 (check_workers refuses such a count beforehand)


def test_each_worker_runs_with_its_part_of_the_cap_and_of_the_pool(
    make_scenario: ScenarioFactory,
) -> None:
    options = RunOptions()
    capped = make_scenario(load={"max_in_flight": 5})
    runs = [
        share_scenario(capped, share_spec(options, Path("w"), k, 2, None, capped)) for k in range(2)
    ]
    assert [s.load.max_in_flight for s in runs] == [3, 2]
    # No max_connections: the pool is sized by each worker's cap (loadgen/run/setup.py).
    assert [s.target.max_connections for s in runs] == [None, None]
    assert capped.load.max_in_flight == 5  # the scenario itself is left as it was
    pooled = make_scenario(load={"max_in_flight": 10}, target={"max_connections": 3})
    runs = [
        share_scenario(pooled, share_spec(options, Path("w"), k, 2, None, pooled)) for k in range(2)
    ]
    assert [(s.load.max_in_flight, s.target.max_connections) for s in runs] == [(5, 2), (5, 1)]
    assert all(s.load.rate == pooled.load.rate for s in runs)  # the rate is split by the plan
