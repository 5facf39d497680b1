"""The sweep's choice of the next rate, from (rate, good?) records alone."""

from __future__ import annotations

from loadgen.capacity.ladder import Ladder
from loadgen.config.scenario import SweepSpec


def _climb(settings: SweepSpec, capacity: float) -> tuple[list[float], Ladder]:
    """Run a ladder against an endpoint that is good up to `capacity` and saturated above."""
    ladder, tried = Ladder(settings), []
    while (rate := ladder.next_rate()) is not None:
        tried.append(rate)
        good = rate <= capacity
        ladder.record(rate, meets_slos=good, saturated=not good)
    return tried, ladder


def test_search_probes_geometrically_then_bisects_to_the_precision() -> None:
    tried, ladder = _climb(SweepSpec(start_rate=1, factor=2, precision=0.05), capacity=37.0)
    assert tried[:7] == [1, 2, 4, 8, 16, 32, 64]
    good = max(r for r in tried if r <= 37)
    bad = min(r for r in tried if r > 37)
    assert (bad - good) / good <= 0.05
    assert 37 / 1.05 <= good <= 37
    assert ladder.stopped_because is not None and "bracketed" in ladder.stopped_because


def test_search_stops_at_max_rate_when_everything_is_good() -> None:
    tried, ladder = _climb(SweepSpec(start_rate=10, max_rate=50), capacity=1e9)
    assert tried == [10, 20, 40, 50]
    assert "max_rate" in (ladder.stopped_because or "")


def test_search_goes_down_when_the_first_rate_is_already_bad() -> None:
    tried, _ = _climb(SweepSpec(start_rate=10, precision=0.1), capacity=3.0)
    assert tried[:3] == [10, 5, 2.5]
    assert max(r for r in tried if r <= 3) >= 3 / 1.1


def test_search_gives_up_when_no_rate_is_good() -> None:
    tried, ladder = _climb(SweepSpec(start_rate=8), capacity=0.0)
    assert tried == [8, 4, 2, 1]
    assert "no rate met the SLOs" in (ladder.stopped_because or "")


def test_a_given_ladder_runs_in_order_and_stops_after_saturation() -> None:
    tried, ladder = _climb(SweepSpec(rates=[10, 1, 5, 20, 40]), capacity=12)
    assert tried == [1, 5, 10, 20]
    assert ladder.stopped_because == "saturated; 1 higher rate(s) of the ladder skipped"


def test_an_slo_miss_without_saturation_does_not_end_a_given_ladder() -> None:
    ladder = Ladder(SweepSpec(rates=[1, 2, 3]))
    tried = []
    while (rate := ladder.next_rate()) is not None:
        tried.append(rate)
        ladder.record(rate, meets_slos=False, saturated=False)
    assert tried == [1, 2, 3]


def test_max_stages_caps_the_search() -> None:
    tried, ladder = _climb(SweepSpec(start_rate=1, max_stages=4), capacity=1000)
    assert len(tried) == 4
    assert "max_stages" in (ladder.stopped_because or "")
