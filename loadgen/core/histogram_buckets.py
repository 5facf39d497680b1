"""HDR histograms as at most N value/count pairs: how a metric datum carries a distribution.

Pure functions, no I/O. CloudWatch accepts at most 150 distinct Values per datum (EMF the same
Values/Counts shape) and computes percentiles from them; an interval's histogram often has more
recorded buckets than that, so neighbouring buckets are merged into log-spaced groups.

The error bound (docs/cloudwatch.md states it for users). Each group covers a contiguous range
of values [m, M] (the lowest equivalent value of its first HDR bucket to the highest of its
last) and is sent as one value inside [m, M] carrying the group's whole count. Groups are
disjoint and in order, so the k-th smallest of the sent values is the representative of the
group that holds the k-th smallest raw value: both lie in [m, M], and their relative error is at
most M/m - 1. A percentile that interpolates between order statistics is a convex combination
of them and keeps the same bound. `Encoded.max_relative_error` reports the largest M/m - 1 over
the groups of one datum; it is at most (1 + 2**-10) * (hi_max / lo_min) ** (1 / 150) - 1, e.g.
3.2 % for data spanning a factor of 100, 4.8 % for 1,000, and HDR's own 0.1 % when there are
at most 150 buckets to begin with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from loadgen.core.histogram import Histogram

# CloudWatch's limit on the distinct Values of one datum; every per-interval output is sized to it.
MAX_VALUES_PER_DATUM = 150

# Bisection on log(ratio), this many steps, narrows it to 2**-24 of its upper bound: far below
# anything a percentile could show, and each step costs tens of microseconds on the event loop.
_BISECTION_STEPS = 24

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Encoded:
    """One datum's Values and Counts, in the caller's units (the histogram's divided by scale).

    counts are whole numbers summing exactly to the histogram's count; values are strictly
    increasing. max_relative_error bounds every percentile computed from them against the
    exact percentile of the values recorded (see the module docstring).
    """

    values: list[float]
    counts: list[int]
    max_relative_error: float

    @property
    def total(self) -> int:
        return sum(self.counts)


def recorded_buckets(histogram: Histogram) -> tuple[IntArray, IntArray, IntArray]:
    """The non-empty HDR buckets: (lowest equivalent value, highest equivalent value, count).

    Read from hdrh's counts array as numpy: walking hdrh's Python iterator costs tens of
    milliseconds per histogram, and this runs on the event loop at every interval.
    """
    return histogram.buckets()


def encode_histogram(
    histogram: Histogram, *, scale: float = 1.0, max_values: int = MAX_VALUES_PER_DATUM
) -> Encoded | None:
    """Values/Counts for a datum, each value divided by `scale` (1000: µs → ms); None if empty."""
    low, high, counts = recorded_buckets(histogram)
    if counts.size == 0:
        return None
    return encode_buckets(low, high, counts, scale=scale, max_values=max_values)


def encode_buckets(
    low: IntArray,
    high: IntArray,
    counts: IntArray,
    *,
    scale: float = 1.0,
    max_values: int = MAX_VALUES_PER_DATUM,
) -> Encoded:
    """Merge sorted, disjoint integer buckets [low, high] into at most `max_values` groups."""
    if max_values < 1 or counts.size == 0:
        raise ValueError("need at least one bucket and one value")
    starts = _group_starts(low, high, max_values)
    ends = np.append(starts[1:], low.size) - 1
    group_counts = np.add.reduceat(counts, starts)
    # Each bucket stands for its middle (as hdrh's mean does); a group for its count-weighted
    # mean, so that CloudWatch's Sum and Average stay what they were. Rounded to a whole unit,
    # it still lies inside [low, high] of its group, since both ends are whole.
    middle = (low + (high - low + 1) // 2).astype(np.float64)
    mean = np.add.reduceat(middle * counts, starts) / group_counts
    lo, hi = low[starts], high[ends]
    representative = np.clip(np.rint(mean), lo, hi)
    error = float(np.max(hi / np.maximum(lo, 1))) - 1.0
    return Encoded(
        values=[float(v) / scale for v in representative.tolist()],
        counts=[int(c) for c in group_counts.tolist()],
        max_relative_error=error,
    )


def _group_starts(low: IntArray, high: IntArray, max_values: int) -> IntArray:
    """Indices where groups begin: log-spaced cells of the narrowest ratio that gives few enough.

    Cells are anchored at the lowest value: bucket i falls in cell floor(log(low_i / low_0) / w).
    With w = log(high_max / low_0) / max_values every bucket falls in one of max_values cells,
    so that w always works; bisection looks for a narrower one that also does (empty cells
    cost nothing, so concentrated data gets much finer groups than the worst case).
    """
    n = low.size
    if n <= max_values:
        return np.arange(n, dtype=np.int64)
    base = float(max(int(low[0]), 1))
    position = np.log(np.maximum(low, 1).astype(np.float64) / base)
    span = math.log(float(high[-1]) / base)
    feasible = span / max_values * (1 + 1e-9)
    infeasible = 0.0
    best = _cell_starts(position, feasible)
    for _ in range(_BISECTION_STEPS):
        width = (feasible + infeasible) / 2
        starts = _cell_starts(position, width)
        if starts.size <= max_values:
            feasible, best = width, starts
        else:
            infeasible = width
    return best


def _cell_starts(position: npt.NDArray[np.float64], width: float) -> IntArray:
    cell = np.floor(position / width)
    return np.flatnonzero(np.diff(cell, prepend=-1.0) > 0).astype(np.int64)


def nearest_rank(values: Sequence[float], counts: Sequence[int], percentile: float) -> float:
    """The nearest-rank percentile of sorted values with counts (used to check the encoding)."""
    total = sum(counts)
    rank = max(1, math.ceil(percentile / 100 * total))
    seen = 0
    for value, count in zip(values, counts, strict=True):
        seen += count
        if seen >= rank:
            return value
    raise ValueError("no values")
