"""Approximate percentiles per second of a run, cheap enough to keep for every second.

A full HDR histogram per second and model would cost hundreds of kilobytes each; the time-series
plots and the live progress view only need a percentile to about a per cent. Values are
counted in log-spaced buckets, 32 to a doubling (each about 2.2 % wide), kept sparse.
The exact figures of a run still come from its HDR histograms.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

BUCKETS_PER_DOUBLING = 32


class LogBuckets:
    """A sparse log-bucketed histogram of positive integers (microseconds)."""

    __slots__ = ("counts", "maximum", "total")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.total = 0
        self.maximum = 0

    def add(self, value: int) -> None:
        value = max(value, 1)
        bucket = int(math.log2(value) * BUCKETS_PER_DOUBLING)
        self.counts[bucket] = self.counts.get(bucket, 0) + 1
        self.total += 1
        if value > self.maximum:
            self.maximum = value

    def percentile(self, percent: float) -> float | None:
        """The value at `percent` (0-100): the middle of its bucket, capped at the maximum."""
        return percentile_of([self], percent)


def percentile_of(parts: Iterable[LogBuckets], percent: float) -> float | None:
    """The percentile over several LogBuckets together (e.g. the last few seconds)."""
    return percentiles_of(parts, [percent])[0]


def percentiles_of(parts: Iterable[LogBuckets], percents: list[float]) -> list[float | None]:
    """Several percentiles (ascending) over several LogBuckets, in one pass."""
    merged: dict[int, int] = {}
    total = 0
    maximum = 0
    for part in parts:
        total += part.total
        maximum = max(maximum, part.maximum)
        for bucket, count in part.counts.items():
            merged[bucket] = merged.get(bucket, 0) + count
    if total == 0:
        return [None] * len(percents)
    ranks = [max(1, math.ceil(total * percent / 100)) for percent in percents]
    results: list[float | None] = []
    seen = 0
    for bucket in sorted(merged):
        seen += merged[bucket]
        while len(results) < len(ranks) and seen >= ranks[len(results)]:
            middle = 2 ** ((bucket + 0.5) / BUCKETS_PER_DOUBLING)
            results.append(float(min(middle, maximum)))
    return results + [float(maximum)] * (len(ranks) - len(results))
