"""Per-model aggregates of one interval, and the metric data they become.

Shared by every output that publishes metrics per interval (the CloudWatch sink, the EMF
writer), so that they turn Samples into the same figures with the same code. `add()` folds a
Sample into counters and HDR histograms; `close()` swaps the aggregates out atomically and
turns them into CloudWatch MetricDatum dicts (Values/Counts for distributions).
docs/cloudwatch.md lists the metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from loadgen.core.histogram import LATENCY_MAX_US, Histogram
from loadgen.core.histogram_buckets import MAX_VALUES_PER_DATUM, encode_histogram
from loadgen.core.sample import ErrorClass, Sample

COUNTERS = (
    "Requests",
    "Successes",
    "Errors",
    "Throttles",
    "ClientErrors",
    "ServerErrors",
    "Timeouts",
    "ConnectionErrors",
    "ProtocolErrors",
    "Dropped",
    "Cancelled",  # sent, then stopped by the run (an interrupt, a guard) before the answer
)
ERROR_COUNTERS = {
    ErrorClass.THROTTLED: "Throttles",
    ErrorClass.CLIENT: "ClientErrors",
    ErrorClass.SERVER: "ServerErrors",
    ErrorClass.TIMEOUT: "Timeouts",
    ErrorClass.CONNECTION: "ConnectionErrors",
    ErrorClass.PROTOCOL: "ProtocolErrors",
    ErrorClass.DROPPED: "Dropped",
}
# Tokens per second are recorded in thousandths, as integers (HDR truncates floats).
TOKENS_PER_S_SCALE = 1000
TOKENS_PER_S_MAX = 10_000_000 * TOKENS_PER_S_SCALE
# name: (unit, divisor from the recorded integer to the unit, highest recordable value)
DISTRIBUTIONS: dict[str, tuple[str, float, int]] = {
    "TTFT": ("Milliseconds", 1000.0, LATENCY_MAX_US),
    "TTLT": ("Milliseconds", 1000.0, LATENCY_MAX_US),
    "ITL": ("Milliseconds", 1000.0, LATENCY_MAX_US),
    "TPOT": ("Milliseconds", 1000.0, LATENCY_MAX_US),
    "ScheduleLag": ("Milliseconds", 1000.0, LATENCY_MAX_US),
    "OutputTokensPerSecond": ("Count/Second", float(TOKENS_PER_S_SCALE), TOKENS_PER_S_MAX),
}
# Every metric name and its unit, counters and distributions alike.
METRIC_UNITS: dict[str, str] = {
    **dict.fromkeys(COUNTERS, "Count"),
    "InputTokens": "Count",
    "OutputTokens": "Count",
    "CostUSD": "None",
    **{name: unit for name, (unit, _, _) in DISTRIBUTIONS.items()},
}


class ModelInterval:
    """One model's aggregates over one interval."""

    __slots__ = ("cost_usd", "counters", "histograms", "input_tokens", "output_tokens", "priced")

    def __init__(self) -> None:
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd = 0.0
        self.priced = False
        self.histograms: dict[str, Histogram] = {}

    def record(self, name: str, value: int) -> None:
        histogram = self.histograms.get(name)
        if histogram is None:
            # Created on first use: an interval with no successes needs no latency histograms.
            histogram = self.histograms[name] = Histogram(DISTRIBUTIONS[name][2])
        histogram.record(value)

    def add(self, sample: Sample) -> None:
        counters = self.counters
        if sample.error is ErrorClass.CANCELLED:
            counters["Cancelled"] += 1  # stopped by the run, not failed by the endpoint
            return
        if sample.error is not None:
            counters["Errors"] += 1
            counters[ERROR_COUNTERS[sample.error]] += 1  # CANCELLED returned above
            if sample.error is ErrorClass.DROPPED:
                return  # never sent: no request, no latency, no tokens
        else:
            counters["Successes"] += 1
        counters["Requests"] += 1
        self.record("ScheduleLag", sample.schedule_lag_us)
        if sample.input_tokens is not None:
            self.input_tokens += sample.input_tokens
        if sample.output_tokens is not None:
            self.output_tokens += sample.output_tokens
        if sample.cost_usd is not None:
            self.cost_usd += sample.cost_usd
            self.priced = True
        if sample.error is None:
            self._add_latencies(sample)

    def _add_latencies(self, sample: Sample) -> None:
        # Successes only, as in the report: a burst of fast 429s must not flatter latency.
        for name, value in (
            ("TTFT", sample.ttft_service_us),
            ("TTLT", sample.ttlt_service_us),
            ("TPOT", sample.tpot_us),
        ):
            if value is not None:
                self.record(name, value)
        for gap in sample.itl_us:
            self.record("ITL", gap)
        if sample.first_token_us is not None and sample.end_us is not None:
            decode_us = sample.end_us - sample.first_token_us
            if decode_us > 0 and sample.output_tokens:
                per_s = sample.output_tokens * 1_000_000 * TOKENS_PER_S_SCALE // decode_us
                self.record("OutputTokensPerSecond", per_s)


class IntervalMetrics:
    """Per-model aggregates of the current interval, turned into metric data on close()."""

    def __init__(
        self,
        *,
        scenario: str,
        dimensions: Mapping[str, str] | None = None,
        storage_resolution: int = 60,
        max_values: int = MAX_VALUES_PER_DATUM,
    ) -> None:
        self.scenario = scenario
        self.storage_resolution = storage_resolution
        self.max_values = max_values
        self.extra = [{"Name": k, "Value": str(v)} for k, v in (dimensions or {}).items()]
        self.out_of_range = 0
        self._models: dict[str, ModelInterval] = {}

    def add(self, sample: Sample) -> None:
        if sample.warmup:
            return
        aggregates = self._models.get(sample.model)
        if aggregates is None:
            aggregates = self._models[sample.model] = ModelInterval()
        aggregates.add(sample)

    def dimensions(self, model: str) -> list[dict[str, str]]:
        # An empty dimension value would make CloudWatch reject the whole call.
        return [
            {"Name": "Model", "Value": model or "unknown"},
            {"Name": "Scenario", "Value": self.scenario},
            *self.extra,
        ]

    def swap(self) -> dict[str, ModelInterval]:
        """The interval's aggregates by model; a new interval begins."""
        # Atomic (no await in it): a sample belongs to exactly one interval.
        models, self._models = self._models, {}
        return models

    async def close(self, timestamp: datetime) -> list[list[dict[str, Any]]]:
        """The interval's data, one list per model that had a sample; a new interval begins."""
        return [
            await self.model_data(model, aggregates, timestamp)
            for model, aggregates in self.swap().items()
        ]

    async def model_data(
        self, model: str, aggregates: ModelInterval, timestamp: datetime
    ) -> list[dict[str, Any]]:
        dimensions = self.dimensions(model)

        def datum(name: str, **fields: Any) -> dict[str, Any]:
            return {
                "MetricName": name,
                "Dimensions": dimensions,
                "Timestamp": timestamp,
                "Unit": METRIC_UNITS[name],
                "StorageResolution": self.storage_resolution,
                **fields,
            }

        # Zero counters are sent too: an interval with no throttles should read 0, not a gap.
        data = [datum(name, Value=float(aggregates.counters[name])) for name in COUNTERS]
        data.append(datum("InputTokens", Value=float(aggregates.input_tokens)))
        data.append(datum("OutputTokens", Value=float(aggregates.output_tokens)))
        if aggregates.priced:
            data.append(datum("CostUSD", Value=aggregates.cost_usd))
        for name, histogram in aggregates.histograms.items():
            # Encoding takes up to a couple of milliseconds per histogram: yield between them
            # so that the runner's timers are not held up for all models' at once.
            await asyncio.sleep(0)
            _, scale, _ = DISTRIBUTIONS[name]
            self.out_of_range += histogram.out_of_range
            encoded = encode_histogram(histogram, scale=scale, max_values=self.max_values)
            if encoded is not None:
                data.append(datum(name, Values=encoded.values, Counts=encoded.counts))
        return data


async def tick_intervals(
    interval_s: float, stopping: asyncio.Event, close: Callable[[], Awaitable[None]]
) -> None:
    """Call close() at every interval boundary, and once more (the last, partial interval)
    when `stopping` is set; then return."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for k in itertools.count(1):
        # Absolute boundaries (start + k * interval), so lateness does not accumulate.
        boundary = start + k * interval_s
        # Woken early by stopping, never cancelled: a cancel could land while an interval is
        # half encoded, and lose it.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(boundary):
                await stopping.wait()
        if stopping.is_set():
            await close()
            return
        if loop.time() >= boundary + interval_s:
            continue  # a whole interval late: fold it into the next one
        await close()
