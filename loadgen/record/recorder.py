"""Histograms and counters that Samples are folded into; nothing per request is kept.

The Recorder routes each Sample: per model (model_stats.py), second by second
(time_series.py), and the generator's own figures (schedule lag, dispatched, dropped)."""

from __future__ import annotations

from loadgen.core.histogram import LATENCY_MAX_US, Histogram
from loadgen.core.sample import ErrorClass, Sample
from loadgen.cost.run_spend import RunSpend
from loadgen.record.model_stats import ModelStats
from loadgen.record.quota_usage import QuotaUsage
from loadgen.record.time_series import TimeSeries


class Recorder:
    """Folds every Sample into per-model statistics (measured samples only) and the series."""

    def __init__(
        self,
        compared_api: str | None = None,
        freeze_after_s: int = 600,
        quota: QuotaUsage | None = None,
        exclude_from_latency: frozenset[str] = frozenset(),
    ) -> None:
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
        self.spend = RunSpend()  # the whole run's bill: warmup and cancelled requests too
        # What each model took from its Bedrock quotas: every request, warmup included.
        self.quota = quota if quota is not None else QuotaUsage({})
        self.first_dispatch_us: int | None = None
        self.last_dispatch_us: int | None = None
        # The scenario's outcomes.exclude_from_latency, which every ModelStats applies.
        self.exclude_from_latency = exclude_from_latency

    def add(self, sample: Sample) -> None:
        self.series.add(sample)
        self.spend.add(sample)
        self.quota.add(sample)
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
            compared = self.compared.get(sample.model)
            if compared is None:
                compared = self.compared[sample.model] = self._model_stats()
            compared.add(sample)
            return
        stats = self.models.get(sample.model)
        if stats is None:  # not setdefault: a ModelStats (a dozen histograms) is costly to make
            stats = self.models[sample.model] = self._model_stats()
        stats.add(sample)

    def ensure_model(self, model: str) -> None:
        if model not in self.models:
            self.models[model] = self._model_stats()

    def _model_stats(self) -> ModelStats:
        return ModelStats(exclude_from_latency=self.exclude_from_latency)
