"""The run second by second: counts, and per-second detail (throttles, lag, TTFT/TTLT
percentiles per model) kept small for old seconds so a long run's memory stays flat."""

from __future__ import annotations

from typing import Literal

from loadgen.core.report_parts import (
    ModelSeries,
    SeriesDetail,
    SeriesPercentiles,
    TimeSeriesSection,
)
from loadgen.core.sample import ErrorClass, Sample
from loadgen.record.second_stats import LogBuckets, PercentileColumns, percentiles_of

# The per-second counts, in the order of a second's bucket.
CountSeries = Literal["sends", "completions", "errors", "output_tokens"]


class TimeSeries:
    """Per-second counts over the whole run (warmup included), for plots and stability checks."""

    FIELDS: tuple[CountSeries, ...] = ("sends", "completions", "errors", "output_tokens")

    def __init__(self, freeze_after_s: int = 600) -> None:
        self._seconds: dict[int, list[int]] = {}
        self.detail = SecondDetail(freeze_after_s)

    def _bucket(self, instant_us: int) -> list[int]:
        second = max(instant_us, 0) // 1_000_000
        bucket = self._seconds.get(second)
        if bucket is None:
            bucket = self._seconds[second] = [0, 0, 0, 0]
        return bucket

    def add(self, sample: Sample) -> None:
        self.detail.add(sample)
        if sample.error is ErrorClass.DROPPED:
            self._bucket(sample.intended_us)[2] += 1
            return
        self._bucket(sample.send_us if sample.send_us is not None else sample.dispatch_us)[0] += 1
        if sample.error is ErrorClass.CANCELLED:
            return  # sent, and stopped by the run: neither a completion nor an error
        if sample.end_us is not None:
            bucket = self._bucket(sample.end_us)
            bucket[1] += 1
            bucket[2] += sample.error is not None
            bucket[3] += sample.output_tokens or 0

    def to_json(self) -> TimeSeriesSection:
        first, last = (min(self._seconds), max(self._seconds)) if self._seconds else (0, -1)
        rows = [self._seconds.get(s, [0, 0, 0, 0]) for s in range(first, last + 1)]
        return {
            "interval_s": 1,
            "start_s": first,
            "sends": [row[0] for row in rows],
            "completions": [row[1] for row in rows],
            "errors": [row[2] for row in rows],
            "output_tokens": [row[3] for row in rows],
            **self.detail.to_json(first, last),
        }


class SecondDetail:
    """Per second: throttles, schedule lag and, per model, TTFT/TTLT percentiles and errors.

    Each value goes into the second in which it became known (TTFT at the first token, TTLT
    and errors at the end, lag at dispatch), so the latest seconds are not biased towards
    the fast requests; the live progress view reads the same buckets.
    """

    # What a long run's memory grows by is this per-second detail (docs/scaling.md), so old
    # seconds are made small (second_stats.py). Seconds this far behind the newest are sealed:
    # a value still reaching one (a request longer than this) opens it again, nothing lost.
    SEAL_AFTER_S = 60

    def __init__(self, freeze_after_s: int = 600) -> None:
        self.throttled: dict[int, int] = {}
        self.dropped: dict[int, int] = {}  # by intended second: drops are not errors to show
        self.lag: dict[int, LogBuckets] = {}
        self.ttft: dict[str, dict[int, LogBuckets]] = {}
        self.ttlt: dict[str, dict[int, LogBuckets]] = {}
        self.errors: dict[str, dict[int, int]] = {}
        # Seconds this far behind the newest keep only their p50/p99/max. It must exceed the
        # longest a request can last (the run passes timeouts.total + 60 s): a sample arrives
        # when its request ends, and its values belong to seconds no earlier than its dispatch.
        self.freeze_after_s = max(freeze_after_s, self.SEAL_AFTER_S)
        self.frozen_lag = PercentileColumns()
        self.frozen_ttft: dict[str, PercentileColumns] = {}
        self.frozen_ttlt: dict[str, PercentileColumns] = {}
        self.late_values = 0  # values for frozen seconds: none unless a request outlived the above
        self._newest = 0
        self._sealed_below = 0
        self._frozen_below = 0

    def add(self, sample: Sample) -> None:
        self._add(sample)
        newest = _second(sample.end_us if sample.end_us is not None else sample.intended_us)
        if newest > self._newest:
            self._newest = newest
            self._seal_below(newest - self.SEAL_AFTER_S)
            self._freeze_below(newest - self.freeze_after_s)

    def _tables(self) -> list[tuple[dict[int, LogBuckets], PercentileColumns]]:
        for model in (*self.ttft, *self.ttlt):
            self.frozen_ttft.setdefault(model, PercentileColumns())
            self.frozen_ttlt.setdefault(model, PercentileColumns())
        return [
            (self.lag, self.frozen_lag),
            *((self.ttft.setdefault(m, {}), c) for m, c in self.frozen_ttft.items()),
            *((self.ttlt.setdefault(m, {}), c) for m, c in self.frozen_ttlt.items()),
        ]

    def _seal_below(self, limit: int) -> None:
        tables = [by_second for by_second, _ in self._tables()]
        for second in range(max(self._sealed_below, self._frozen_below), limit):
            for by_second in tables:
                if (buckets := by_second.get(second)) is not None:
                    buckets.seal()
        self._sealed_below = max(self._sealed_below, limit)

    def _freeze_below(self, limit: int) -> None:
        tables = self._tables()
        for second in range(self._frozen_below, limit):
            for by_second, columns in tables:
                columns.freeze(second, by_second.pop(second, None))
        self._frozen_below = max(self._frozen_below, limit)

    def _open(self, by_second: dict[int, LogBuckets], second: int) -> LogBuckets | None:
        """The buckets of `second`, or None (and counted) if it is frozen already."""
        if second < self._frozen_below:
            self.late_values += 1
            return None
        return _buckets(by_second, second)

    def _add(self, sample: Sample) -> None:
        model = sample.model
        if sample.error is not None and sample.error is not ErrorClass.CANCELLED:
            second = _second(sample.end_us if sample.end_us is not None else sample.intended_us)
            if sample.error is ErrorClass.DROPPED:  # never sent: not the model's error
                self.dropped[second] = self.dropped.get(second, 0) + 1
                return
            errors = self.errors.setdefault(model, {})
            errors[second] = errors.get(second, 0) + 1
            if sample.error is ErrorClass.THROTTLED:
                self.throttled[second] = self.throttled.get(second, 0) + 1
        if (lag := self._open(self.lag, _second(sample.dispatch_us))) is not None:
            lag.add(sample.schedule_lag_us)
        if sample.error is not None:
            return
        if sample.ttft_service_us is not None and sample.first_token_us is not None:
            seconds = self.ttft.setdefault(model, {})
            if (ttft := self._open(seconds, _second(sample.first_token_us))) is not None:
                ttft.add(sample.ttft_service_us)
        if sample.ttlt_service_us is not None and sample.end_us is not None:
            seconds = self.ttlt.setdefault(model, {})
            if (ttlt := self._open(seconds, _second(sample.end_us))) is not None:
                ttlt.add(sample.ttlt_service_us)

    def recent_ttft_ms(
        self, model: str | None, last_second: int, window: int
    ) -> list[float | None]:
        """TTFT p50 and p99 (ms) over seconds (last_second - window, last_second]."""
        models = [model] if model is not None else list(self.ttft)
        parts = [
            buckets
            for name in models
            for second in range(last_second - window + 1, last_second + 1)
            if (buckets := self.ttft.get(name, {}).get(second)) is not None
        ]
        return [_ms(value) for value in percentiles_of(parts, [50.0, 99.0])]

    def to_json(self, first: int, last: int) -> SeriesDetail:
        seconds = range(first, last + 1)

        def percentiles(
            by_second: dict[int, LogBuckets], frozen: PercentileColumns | None
        ) -> SeriesPercentiles:
            def value(second: int, percent: float) -> float | None:
                if frozen is not None and 0 <= second < len(frozen):
                    return frozen.get(second, percent)
                buckets = by_second.get(second)
                return None if buckets is None else buckets.percentile(percent)

            def column(percent: float) -> list[float | None]:
                return [_ms(value(s, percent)) for s in seconds]

            return {"p50": column(50.0), "p99": column(99.0), "max": column(100.0)}

        def model_series(model: str) -> ModelSeries:
            return {
                "ttft_ms": percentiles(self.ttft.get(model, {}), self.frozen_ttft.get(model)),
                "ttlt_ms": percentiles(self.ttlt.get(model, {}), self.frozen_ttlt.get(model)),
                "errors": [self.errors.get(model, {}).get(s, 0) for s in seconds],
            }

        models = sorted({*self.ttft, *self.ttlt, *self.errors})
        return {
            "throttled": [self.throttled.get(s, 0) for s in seconds],
            "dropped": [self.dropped.get(s, 0) for s in seconds],
            "lag_ms": percentiles(self.lag, self.frozen_lag),
            "models": {model: model_series(model) for model in models},
        }


def _second(instant_us: int) -> int:
    return max(instant_us, 0) // 1_000_000


def _buckets(by_second: dict[int, LogBuckets], second: int) -> LogBuckets:
    buckets = by_second.get(second)
    if buckets is None:
        buckets = by_second[second] = LogBuckets()
    return buckets


def _ms(value_us: float | None) -> float | None:
    return None if value_us is None else round(value_us / 1000, 3)
