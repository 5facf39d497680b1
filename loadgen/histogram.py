"""An HDR histogram of integers that counts what it could not record.

hdrhistogram's `record_value` returns False, silently, for a value outside its range, and
truncates floats: values are recorded as integers and every rejected value is counted.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from hdrh.histogram import HdrHistogram

IntArray = npt.NDArray[np.int64]

# Latencies in microseconds from 1 µs to 1 hour, 3 significant digits (0.1 % error).
LATENCY_MAX_US = 3_600_000_000
TOKENS_MAX = 10_000_000
SIGNIFICANT_DIGITS = 3
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p95": 95.0, "p99": 99.0, "p999": 99.9}


class Histogram:
    """An HDR histogram of non-negative integers that counts what it could not record."""

    def __init__(self, highest: int) -> None:
        self.hdr = HdrHistogram(1, highest, SIGNIFICANT_DIGITS)
        self.out_of_range = 0

    def record(self, value: int) -> None:
        # Zero is a real value (a delta arriving in the same microsecond); HDR's floor is 1.
        if not self.hdr.record_value(max(int(value), 1)):
            self.out_of_range += 1

    @property
    def count(self) -> int:
        return int(self.hdr.get_total_count())

    def summary(self, scale: float = 1.0) -> dict[str, float | int | None]:
        """count, mean, percentiles and max, each divided by `scale` (1000: µs → ms)."""
        if self.count == 0:
            return {"count": 0, "mean": None, **dict.fromkeys(PERCENTILES), "max": None}
        values: dict[str, float | int | None] = {
            "count": self.count,
            "mean": round(self.mean() / scale, 3),
        }
        for name, percentile in PERCENTILES.items():
            values[name] = round(self.hdr.get_value_at_percentile(percentile) / scale, 3)
        values["max"] = round(self.hdr.get_max_value() / scale, 3)
        return values

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
