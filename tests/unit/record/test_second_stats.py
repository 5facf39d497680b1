"""Per-second log-bucketed percentiles: within a bucket's width of the exact value."""

from __future__ import annotations

import math
import random

from loadgen.record.second_stats import BUCKETS_PER_DOUBLING, LogBuckets, percentiles_of

WIDTH = 2 ** (1 / BUCKETS_PER_DOUBLING) - 1  # relative width of one bucket, about 2.2 %


def exact(values: list[int], percent: float) -> int:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * percent / 100)) - 1]


def test_percentiles_are_within_one_bucket_of_exact() -> None:
    chance = random.Random(4)
    seconds = [LogBuckets() for _ in range(5)]
    values = []
    for index in range(5000):
        value = int(chance.lognormvariate(12, 0.6))  # around 160 ms, in microseconds
        values.append(value)
        seconds[index % 5].add(value)
    for percent, found in zip(
        (50.0, 90.0, 99.0), percentiles_of(seconds, [50.0, 90.0, 99.0]), strict=True
    ):
        assert found is not None
        assert abs(found - exact(values, percent)) <= WIDTH * exact(values, percent)
    assert seconds[0].percentile(100.0) == max(values[0::5])


def test_empty_buckets_have_no_percentiles() -> None:
    assert percentiles_of([LogBuckets(), LogBuckets()], [50.0, 99.0]) == [None, None]
    single = LogBuckets()
    single.add(0)  # floored at 1, like the HDR histograms
    assert single.percentile(50.0) == 1.0
