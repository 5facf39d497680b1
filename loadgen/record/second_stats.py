"""Approximate percentiles per second of a run, cheap enough to keep for every second.

A full HDR histogram per second and model would cost hundreds of kilobytes each; the time-series
plots and the live progress view only need a percentile to about a per cent. Values are
counted in log-spaced buckets, 32 to a doubling (each about 2.2 % wide), kept sparse.
The exact figures of a run still come from its HDR histograms.

A run keeps one set per second for its whole length, so their size is what a long run's
memory grows by: a second still open takes a dict (about 8 kB a second at 280 requests/s,
measured by benchmarks/soak_rss.py), a sealed one a flat array of (bucket, count) pairs,
about a sixth of that, and a frozen one only the three figures the report shows (p50, p99,
max) in PercentileColumns: 24 bytes. The recorder seals the seconds that values have almost
stopped reaching, and freezes those no value can reach any more.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Iterator

BUCKETS_PER_DOUBLING = 32


class LogBuckets:
    """A sparse log-bucketed histogram of positive integers (microseconds)."""

    __slots__ = ("_sealed", "counts", "maximum", "total")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self._sealed: array[int] | None = None  # bucket, count, bucket, count, ...
        self.total = 0
        self.maximum = 0

    def add(self, value: int) -> None:
        if self._sealed is not None:  # a late value: open it again, nothing is lost
            self.counts = dict(self.items())
            self._sealed = None
        value = max(value, 1)
        bucket = int(math.log2(value) * BUCKETS_PER_DOUBLING)
        self.counts[bucket] = self.counts.get(bucket, 0) + 1
        self.total += 1
        if value > self.maximum:
            self.maximum = value

    def seal(self) -> None:
        """Keep the counts in a flat array: a sixth of the memory, read the same way."""
        if self._sealed is None:
            pairs = array("I")  # a second never holds 2**32 values
            for bucket, count in self.counts.items():
                pairs.append(bucket)
                pairs.append(count)
            self._sealed = pairs
            self.counts = {}

    @property
    def sealed(self) -> bool:
        return self._sealed is not None

    def items(self) -> Iterator[tuple[int, int]]:
        """(bucket, count) pairs, open or sealed."""
        if self._sealed is None:
            return iter(self.counts.items())
        pairs = self._sealed
        return zip(pairs[0::2], pairs[1::2], strict=True)

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
        for bucket, count in part.items():
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


FROZEN_PERCENTS = (50.0, 99.0, 100.0)


class PercentileColumns:
    """p50, p99 and max (FROZEN_PERCENTS) of every second from 0 up to `len(self)`, as flat
    arrays: what the report keeps of a second once no value can reach it any more."""

    __slots__ = ("_columns",)

    def __init__(self) -> None:
        self._columns = tuple(array("d") for _ in FROZEN_PERCENTS)

    def __len__(self) -> int:
        return len(self._columns[0])

    def freeze(self, second: int, buckets: LogBuckets | None) -> None:
        """Append `second` (and NaN for any skipped before it): its figures, or NaN for none."""
        while len(self) < second:
            for column in self._columns:
                column.append(math.nan)
        values = percentiles_of([buckets], list(FROZEN_PERCENTS)) if buckets else [None] * 3
        for column, value in zip(self._columns, values, strict=True):
            column.append(math.nan if value is None else value)

    def get(self, second: int, percent: float) -> float | None:
        value = self._columns[FROZEN_PERCENTS.index(percent)][second]
        return None if math.isnan(value) else value
