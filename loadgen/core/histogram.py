"""An HDR histogram of integers that counts what it could not record.

hdrhistogram's `record_value` returns False, silently, for a value outside its range, and
truncates floats: values are recorded as integers and every rejected value is counted.

Recording is on every request's path (a dozen latencies, and one ITL gap per delta), and
hdrh's `record_value` is pure Python at 2-5 us a value: `record` computes hdrh's counts index
itself (`int.bit_length` instead of hdrh's `bin()` string), and `record_many` records a
request's ITL gaps in one loop with the constants in locals. Both leave hdrh's counts, total,
min and max exactly as `record_value` would (tests/unit/core/test_histogram.py checks it value
for value).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
from hdrh.histogram import HdrHistogram

from loadgen.core.report_parts import HistogramSummary

IntArray = npt.NDArray[np.int64]

# Latencies in microseconds from 1 µs to 1 hour, 3 significant digits (0.1 % error).
LATENCY_MAX_US = 3_600_000_000
TOKENS_MAX = 10_000_000
SIGNIFICANT_DIGITS = 3
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}


class Histogram:
    """An HDR histogram of non-negative integers that counts what it could not record."""

    __slots__ = (
        "_bucket_shift",
        "_half",
        "_half_mag",
        "_limit",
        "_mask",
        "_unit",
        "hdr",
        "out_of_range",
    )

    def __init__(self, highest: int) -> None:
        self.hdr = HdrHistogram(1, highest, SIGNIFICANT_DIGITS)
        self.out_of_range = 0
        hdr = self.hdr
        # hdrh's index arithmetic (HdrHistogram._counts_index_for), its constants read once.
        self._mask = int(hdr.sub_bucket_mask)
        self._unit = int(hdr.unit_magnitude)
        self._half_mag = int(hdr.sub_bucket_half_count_magnitude)
        self._half = int(hdr.sub_bucket_half_count)
        self._bucket_shift = self._unit + self._half_mag + 1
        # The index grows with the value: past the highest value of the last counter, every
        # value is out of range (hdrh's index check, as one comparison).
        self._limit = int(
            hdr.get_highest_equivalent_value(hdr.get_value_from_index(hdr.counts_len - 1))
        )

    def record(self, value: int) -> None:
        # Zero is a real value (a delta arriving in the same microsecond); HDR's floor is 1.
        value = int(value)
        if value < 1:
            value = 1
        elif value > self._limit:
            self.out_of_range += 1
            return
        hdr = self.hdr
        bucket = (value | self._mask).bit_length() - self._bucket_shift
        hdr.counts[
            ((bucket + 1) << self._half_mag) + (value >> (bucket + self._unit)) - self._half
        ] += 1
        hdr.total_count += 1
        if value < hdr.min_value:
            hdr.min_value = value
        if value > hdr.max_value:
            hdr.max_value = value

    def record_many(self, values: Iterable[int]) -> None:
        """`record` each of `values` (a request's ITL gaps), in one loop with no calls.

        Not numpy: measured inside a W2 run (benchmarks/record_cpu.py has the isolated
        figure), numpy's dozen small-array calls cost ~120 us of CPU for 50 gaps where this
        loop costs ~30 us; on a hot cache, in isolation, numpy was ~1.5x faster.
        """
        hdr = self.hdr
        counts = hdr.counts
        mask, shift, half_mag = self._mask, self._bucket_shift, self._half_mag
        unit, half, limit = self._unit, self._half, self._limit
        recorded = rejected = 0
        low, high = hdr.min_value, hdr.max_value
        for raw in values:
            value = int(raw)
            if value < 1:
                value = 1
            elif value > limit:
                rejected += 1
                continue
            bucket = (value | mask).bit_length() - shift
            counts[((bucket + 1) << half_mag) + (value >> (bucket + unit)) - half] += 1
            recorded += 1
            if value < low:
                low = value
            if value > high:
                high = value
        hdr.total_count += recorded
        hdr.min_value, hdr.max_value = low, high
        self.out_of_range += rejected

    @property
    def count(self) -> int:
        return int(self.hdr.get_total_count())

    def summary(self, scale: float = 1.0) -> HistogramSummary:
        """count, mean, percentiles and max, each divided by `scale` (1000: µs → ms)."""
        if self.count == 0:
            return {
                "count": 0,
                "mean": None,
                "p50": None,
                "p90": None,
                "p95": None,
                "p99": None,
                "p999": None,
                "max": None,
            }

        def at(name: str) -> float:
            return round(float(self.hdr.get_value_at_percentile(PERCENTILES[name])) / scale, 3)

        return {
            "count": self.count,
            "mean": round(self.mean() / scale, 3),
            "p50": at("p50"),
            "p90": at("p90"),
            "p95": at("p95"),
            "p99": at("p99"),
            "p999": at("p999"),
            "max": round(self.hdr.get_max_value() / scale, 3),
        }

    def mean(self) -> float:
        """hdrh's get_mean_value (each count at its bucket's median equivalent value), from the
        counts array with numpy: hdrh walks a Python iterator, ~90 ms per latency histogram."""
        low, high, counts = self.buckets()
        if counts.size == 0:
            return 0.0
        median = low + ((high - low + 1) >> 1)
        return float((median * counts).sum() / counts.sum())

    def buckets(self) -> tuple[IntArray, IntArray, IntArray]:
        """The non-empty buckets: (lowest equivalent value, highest equivalent value, count),
        read from hdrh's counts array as numpy (hdrh's get_value_from_index, vectorised)."""
        hdr = self.hdr
        counts = np.ctypeslib.as_array(hdr.counts)[: hdr.counts_len].astype(np.int64)
        index = np.flatnonzero(counts).astype(np.int64)
        half_mag = int(hdr.sub_bucket_half_count_magnitude)
        half = int(hdr.sub_bucket_half_count)
        unit_mag = int(hdr.unit_magnitude)
        bucket = (index >> half_mag) - 1
        sub = (index & (half - 1)) + half
        first = bucket < 0
        sub = np.where(first, sub - half, sub)
        bucket = np.where(first, 0, bucket)
        low = sub << (bucket + unit_mag)
        size = np.left_shift(np.int64(1), bucket + unit_mag)
        return low, low + size - 1, counts[index]

    def encode(self) -> str:
        return str(self.hdr.encode().decode("ascii"))

    def merge(self, other: Histogram) -> None:
        self.hdr.add(other.hdr)
        self.out_of_range += other.out_of_range

    @classmethod
    def decode(cls, encoded: str, highest: int) -> Histogram:
        """The inverse of `encode`, into a histogram of our own range (so merges line up)."""
        try:
            decoded = HdrHistogram.decode(encoded)
        except Exception as exc:  # hdrh raises its own classes, and binascii's and zlib's
            raise ValueError(f"not an HDR histogram encoding ({type(exc).__name__})") from None
        histogram = cls(highest)
        histogram.hdr.add(decoded)
        return histogram
