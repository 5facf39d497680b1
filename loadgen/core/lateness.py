"""How late the emulator's writes were: bounded memory, percentiles to about 1.5 %."""

from __future__ import annotations

import math
from typing import Any


class LatenessStats:
    """Count, sum, max and a log-linear histogram of lateness in microseconds.

    The histogram keeps 64 buckets per power of two (about 1.5 % relative error; exact below
    128 us), so memory stays bounded however many writes are recorded."""

    _SUB = 64

    def __init__(self) -> None:
        self.count = 0
        self.sum_us = 0
        self.max_us = 0
        self._buckets: dict[int, int] = {}

    def record_ns(self, lateness_ns: int) -> None:
        value = max(0, lateness_ns) // 1000
        self.count += 1
        self.sum_us += value
        self.max_us = max(self.max_us, value)
        index = self._index(value)
        self._buckets[index] = self._buckets.get(index, 0) + 1

    @classmethod
    def _index(cls, value: int) -> int:
        if value < 2 * cls._SUB:
            return value
        shift = value.bit_length() - 7  # brings value into [64, 128)
        return cls._SUB * shift + (value >> shift)

    @classmethod
    def _value(cls, index: int) -> int:
        """The middle of a bucket."""
        if index < 2 * cls._SUB:
            return index
        shift = index // cls._SUB - 1
        return ((index - cls._SUB * shift) << shift) + (1 << shift) // 2

    def percentile_us(self, fraction: float) -> int | None:
        if not self.count:
            return None
        rank = max(1, math.ceil(fraction * self.count))  # nearest rank
        seen = 0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if seen >= rank:
                return min(self._value(index), self.max_us)
        return self.max_us

    def summary(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "mean_us": round(self.sum_us / self.count, 1) if self.count else None,
            "p50_us": self.percentile_us(0.50),
            "p99_us": self.percentile_us(0.99),
            "max_us": self.max_us if self.count else None,
        }
