"""Histograms and counters that Samples are folded into; nothing per request is kept."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from loadgen.core.histogram import LATENCY_MAX_US, TOKENS_MAX, Histogram
from loadgen.core.sample import ErrorClass, Sample
from loadgen.cost.accounting import CostStats
from loadgen.record.second_stats import LogBuckets, PercentileColumns, percentiles_of

LATENCY_METRICS = (
    "ttft_service",
    "ttft_response",
    "ttlt_service",
    "ttlt_response",
    "itl",
    "tpot",
    "schedule_lag",
    "client_prep",
    "pool_wait",
    "server_latency",  # what Bedrock reports: latencyMs, invocationLatency
    "server_first_byte",  # Bedrock's firstByteLatency (InvokeModelWithResponseStream)
    "client_overhead",  # TTLT from send minus server latency
)
TOKEN_METRICS = ("input_tokens", "output_tokens")


@dataclass
class ModelStats:
    """Everything the report says about one model, built from its measured samples."""

    latency: dict[str, Histogram] = field(
        default_factory=lambda: {name: Histogram(LATENCY_MAX_US) for name in LATENCY_METRICS}
    )
    tokens: dict[str, Histogram] = field(
        default_factory=lambda: {name: Histogram(TOKENS_MAX) for name in TOKEN_METRICS}
    )
    sent: int = 0
    ok: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)
    input_tokens_total: int = 0
    output_tokens_total: int = 0
    tokens_estimated: int = 0
    cost: CostStats = field(default_factory=CostStats)
    first_intended_us: int | None = None
    last_end_us: int | None = None
    # Out-of-range values of a report read back from disk: the report keeps only their total.
    carried_out_of_range: int = 0

    def add(self, sample: Sample) -> None:
        if sample.error is ErrorClass.DROPPED:
            self.errors[ErrorClass.DROPPED.value] += 1
            return
        self.sent += 1
        self.cost.add(sample.cost_usd, sample.ok)
        if sample.error is None:
            self.ok += 1
        else:
            self.errors[sample.error.value] += 1
            if sample.error_code:
                self.error_codes[sample.error_code] += 1
        self._record_latencies(sample)
        if sample.input_tokens is not None:
            self.input_tokens_total += sample.input_tokens
            self.tokens["input_tokens"].record(sample.input_tokens)
        if sample.output_tokens is not None:
            self.output_tokens_total += sample.output_tokens
            self.tokens["output_tokens"].record(sample.output_tokens)
        self.tokens_estimated += sample.tokens_estimated
        if self.first_intended_us is None or sample.intended_us < self.first_intended_us:
            self.first_intended_us = sample.intended_us
        if sample.end_us is not None and (
            self.last_end_us is None or sample.end_us > self.last_end_us
        ):
            self.last_end_us = sample.end_us

    def _record_latencies(self, sample: Sample) -> None:
        latency = self.latency
        latency["schedule_lag"].record(sample.schedule_lag_us)
        for name, value in (
            ("client_prep", sample.client_prep_us),
            ("pool_wait", sample.pool_wait_us),
        ):
            if value is not None:
                latency[name].record(value)
        # TTFT and TTLT of failed requests would mix two populations: only successes count.
        # A failed request still shows in the counters and in the time series.
        if sample.error is not None:
            return
        for name, value in (
            ("ttft_service", sample.ttft_service_us),
            ("ttft_response", sample.ttft_response_us),
            ("ttlt_service", sample.ttlt_service_us),
            ("ttlt_response", sample.ttlt_response_us),
            ("tpot", sample.tpot_us),
            *_server_timings(sample),
        ):
            if value is not None:
                latency[name].record(value)
        latency["itl"].record_many(sample.itl_us)

    @property
    def out_of_range(self) -> int:
        histograms = [*self.latency.values(), *self.tokens.values()]
        return sum(h.out_of_range for h in histograms) + self.carried_out_of_range

    def merge(self, other: ModelStats) -> None:
        """Add another run's statistics of the same model: exact, as HDR histograms add."""
        for mine, theirs in ((self.latency, other.latency), (self.tokens, other.tokens)):
            for name, histogram in theirs.items():
                mine[name].merge(histogram)
        self.sent += other.sent
        self.ok += other.ok
        self.errors.update(other.errors)
        self.error_codes.update(other.error_codes)
        self.input_tokens_total += other.input_tokens_total
        self.output_tokens_total += other.output_tokens_total
        self.tokens_estimated += other.tokens_estimated
        self.cost.merge(other.cost)
        self.carried_out_of_range += other.carried_out_of_range
        starts = [s for s in (self.first_intended_us, other.first_intended_us) if s is not None]
        ends = [e for e in (self.last_end_us, other.last_end_us) if e is not None]
        self.first_intended_us = min(starts) if starts else None
        self.last_end_us = max(ends) if ends else None


def _server_timings(sample: Sample) -> list[tuple[str, int | None]]:
    """The server's own timings in µs, and the client overhead beside them.

    The overhead is clamped at 0: the server rounds its figure to whole milliseconds and can
    read a little above what the client measured.
    """
    overhead = sample.client_overhead_us
    return [
        ("server_latency", _ms_to_us(sample.server_latency_ms)),
        ("server_first_byte", _ms_to_us(sample.server_first_byte_ms)),
        ("client_overhead", None if overhead is None else max(overhead, 0)),
    ]


def _ms_to_us(value: int | None) -> int | None:
    return None if value is None else value * 1000


class TimeSeries:
    """Per-second counts over the whole run (warmup included), for plots and stability checks."""

    FIELDS = ("sends", "completions", "errors", "output_tokens")

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
        if sample.end_us is not None:
            bucket = self._bucket(sample.end_us)
            bucket[1] += 1
            bucket[2] += sample.error is not None
            bucket[3] += sample.output_tokens or 0

    def to_json(self) -> dict[str, Any]:
        if not self._seconds:
            empty: dict[str, list[int]] = {name: [] for name in self.FIELDS}
            return {"interval_s": 1, "start_s": 0, **empty, **self.detail.to_json(0, -1)}
        first, last = min(self._seconds), max(self._seconds)
        rows = [self._seconds.get(s, [0, 0, 0, 0]) for s in range(first, last + 1)]
        series = {name: [row[i] for row in rows] for i, name in enumerate(self.FIELDS)}
        return {"interval_s": 1, "start_s": first, **series, **self.detail.to_json(first, last)}


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
        if sample.error is not None:
            second = _second(sample.end_us if sample.end_us is not None else sample.intended_us)
            errors = self.errors.setdefault(model, {})
            errors[second] = errors.get(second, 0) + 1
            if sample.error is ErrorClass.THROTTLED:
                self.throttled[second] = self.throttled.get(second, 0) + 1
            if sample.error is ErrorClass.DROPPED:
                return
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

    def to_json(self, first: int, last: int) -> dict[str, Any]:
        seconds = range(first, last + 1)

        def percentiles(
            by_second: dict[int, LogBuckets], frozen: PercentileColumns | None
        ) -> dict[str, list[float | None]]:
            def value(second: int, percent: float) -> float | None:
                if frozen is not None and 0 <= second < len(frozen):
                    return frozen.get(second, percent)
                buckets = by_second.get(second)
                return None if buckets is None else buckets.percentile(percent)

            return {
                name: [_ms(value(s, percent)) for s in seconds]
                for name, percent in (("p50", 50.0), ("p99", 99.0), ("max", 100.0))
            }

        models = sorted({*self.ttft, *self.ttlt, *self.errors})
        return {
            "throttled": [self.throttled.get(s, 0) for s in seconds],
            "lag_ms": percentiles(self.lag, self.frozen_lag),
            "models": {
                model: {
                    "ttft_ms": percentiles(self.ttft.get(model, {}), self.frozen_ttft.get(model)),
                    "ttlt_ms": percentiles(self.ttlt.get(model, {}), self.frozen_ttlt.get(model)),
                    "errors": [self.errors.get(model, {}).get(s, 0) for s in seconds],
                }
                for model in models
            },
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


class Recorder:
    """Folds every Sample into per-model statistics (measured samples only) and the series."""

    def __init__(self, compared_api: str | None = None, freeze_after_s: int = 600) -> None:
        self.models: dict[str, ModelStats] = {}
        # compare_streaming: samples of the second API are folded apart, per model.
        self.compared_api = compared_api
        self.compared: dict[str, ModelStats] = {}
        # The per-second detail of seconds this far back is kept as p50/p99/max only.
        self.series = TimeSeries(freeze_after_s)
        self.schedule_lag = Histogram(LATENCY_MAX_US)  # every request, warmup included
        self.dispatched = 0
        self.dropped = 0
        self.warmup = 0
        self.first_dispatch_us: int | None = None
        self.last_dispatch_us: int | None = None

    def add(self, sample: Sample) -> None:
        self.series.add(sample)
        if sample.error is ErrorClass.DROPPED:
            self.dropped += 1
        else:
            self.dispatched += 1
            self.schedule_lag.record(sample.schedule_lag_us)
            if self.first_dispatch_us is None or sample.dispatch_us < self.first_dispatch_us:
                self.first_dispatch_us = sample.dispatch_us
            if self.last_dispatch_us is None or sample.dispatch_us > self.last_dispatch_us:
                self.last_dispatch_us = sample.dispatch_us
        if sample.warmup:
            self.warmup += 1
            return
        if self.compared_api is not None and sample.api == self.compared_api:
            self.compared.setdefault(sample.model, ModelStats()).add(sample)
            return
        stats = self.models.get(sample.model)
        if stats is None:  # not setdefault: a ModelStats (a dozen histograms) is costly to make
            stats = self.models[sample.model] = ModelStats()
        stats.add(sample)

    def ensure_model(self, model: str) -> None:
        self.models.setdefault(model, ModelStats())
