"""Is a change between two runs beyond the noise? Bootstrap over HDR buckets, and a test of
two proportions. docs/compare.md states the method; this module is only arithmetic.

A histogram is a list of (value, count) buckets, so resampling n requests with replacement
from it is one multinomial draw of n over the buckets' shares: numpy draws all the resamples at
once, and a statistic (a percentile, a mean) is read off each row of counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from loadgen.core.histogram import Histogram

FloatArray = npt.NDArray[np.float64]
CountArray = npt.NDArray[np.int64]
# Maps (bucket values, counts of shape (resamples, buckets)) to one statistic per resample.
Statistic = Callable[[FloatArray, CountArray], FloatArray]


@dataclass(frozen=True)
class Distribution:
    """Bucket values (ascending) and how many requests fell in each."""

    values: FloatArray
    counts: CountArray

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @classmethod
    def for_percentiles(cls, histogram: Histogram) -> Distribution:
        """Each bucket stands for its highest value: what HDR's percentiles return."""
        _, high, counts = histogram.buckets()
        return cls(high.astype(np.float64), counts)

    @classmethod
    def for_means(cls, histogram: Histogram, zeros: int = 0) -> Distribution:
        """Each bucket stands for its middle, as HDR's mean does; `zeros` adds exact zeros."""
        low, high, counts = histogram.buckets()
        middle = (low + (high - low + 1) // 2).astype(np.float64)
        if zeros:
            middle = np.concatenate([[0.0], middle])
            counts = np.concatenate([np.array([zeros], dtype=np.int64), counts])
        return cls(middle, counts)


def percentile(q: float) -> Statistic:
    """HDR's definition: the value of the bucket holding the round(q % of n)-th request."""

    def statistic(values: FloatArray, counts: CountArray) -> FloatArray:
        n = counts.sum(axis=-1, keepdims=True)
        rank = np.maximum(np.floor(q / 100.0 * n + 0.5), 1)
        index = np.argmax(np.cumsum(counts, axis=-1) >= rank, axis=-1)
        chosen: FloatArray = values[index].astype(np.float64)
        return chosen

    return statistic


def mean(values: FloatArray, counts: CountArray) -> FloatArray:
    means: FloatArray = (counts @ values / counts.sum(axis=-1)).astype(np.float64)
    return means


def point(distribution: Distribution, statistic: Statistic) -> float:
    return float(statistic(distribution.values, distribution.counts[np.newaxis, :])[0])


def resample(
    distribution: Distribution, statistic: Statistic, resamples: int, rng: np.random.Generator
) -> FloatArray:
    """The statistic of `resamples` resamples of n requests each, drawn with replacement."""
    shares = distribution.counts / distribution.n
    drawn = rng.multinomial(distribution.n, shares, size=resamples).astype(np.int64)
    return statistic(distribution.values, drawn)


def difference_interval(
    base: FloatArray, new: FloatArray, confidence: float
) -> tuple[float, float]:
    """Percentile interval of new - base over paired resamples."""
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(new - base, [tail, 100 - tail])
    return float(low), float(high)


def two_proportion_p_value(base_hits: int, base_n: int, new_hits: int, new_n: int) -> float:
    """Two-sided p-value of the pooled two-proportion z-test (1.0 when there is nothing to test:
    an empty side, or no hit in either)."""
    if base_n == 0 or new_n == 0:
        return 1.0
    pooled = (base_hits + new_hits) / (base_n + new_n)
    if pooled in (0.0, 1.0):
        return 1.0
    spread = math.sqrt(pooled * (1 - pooled) * (1 / base_n + 1 / new_n))
    z = (new_hits / new_n - base_hits / base_n) / spread
    return math.erfc(abs(z) / math.sqrt(2))
