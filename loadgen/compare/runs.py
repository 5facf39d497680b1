"""`loadgen compare BASE NEW`: per model and metric, the change and whether it is beyond the noise.

Latency percentiles, output tokens/s and cost per 1k answered requests are bootstrapped from the HDR
histograms; error and throttle rates get a two-proportion test. A change counts only when it is
both statistically clear and large enough to matter (docs/compare.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any

import numpy as np

from loadgen.compare.bootstrap import (
    Distribution,
    Statistic,
    difference_interval,
    mean,
    percentile,
    point,
    resample,
    two_proportion_p_value,
)
from loadgen.core.errors import ConfigError
from loadgen.core.sample import ErrorClass
from loadgen.record.model_stats import ModelStats
from loadgen.report.saved_run import read_model_stats
from loadgen.report.schema import ModelSection, Report

EXIT_REGRESSION = 4
# The verdict words of compare.json, the console and compare.html (loadgen/compare/display.py).
REGRESSION, IMPROVEMENT = "regression", "improvement"
NO_CHANGE, NOT_TESTED = "no significant change", "not tested"

# (label, histogram, percentile): service time, the endpoint's own speed.
LATENCY_METRICS = (
    ("TTFT p50", "ttft_service", 50.0),
    ("TTFT p95", "ttft_service", 95.0),
    ("TTFT p99", "ttft_service", 99.0),
    ("TTLT p50", "ttlt_service", 50.0),
    ("TTLT p95", "ttlt_service", 95.0),
    ("TTLT p99", "ttlt_service", 99.0),
    ("ITL p99", "itl", 99.0),
)

# Compared where either run reasoned (docs/metrics.md "Content kinds").
REASONING_METRICS = (
    ("TTFA p50", "ttfa_service", 50.0),
    ("TTFA p99", "ttfa_service", 99.0),
    ("reasoning p50", "reasoning", 50.0),
)
# Answers that did not answer as asked (docs/metrics.md "Outcomes"), as rates of requests sent.
FLAGGED_OUTCOMES = (
    ("guardrail rate", ("guardrail_intervened",)),
    ("content filtered rate", ("content_filtered",)),
    ("truncation rate", ("max_tokens", "model_context_window_exceeded")),
)


def _ended_by(stats: ModelStats, *, reasons: tuple[str, ...]) -> int:
    return sum(stats.stop_reasons[reason] for reason in reasons)


@dataclass(frozen=True)
class CompareOptions:
    min_effect: float = 0.05  # relative change below which nothing is flagged
    min_effect_ms: float = 1.0  # latency changes below this are timer noise, never flagged
    confidence: float = 0.95  # of the bootstrap interval of the difference
    alpha: float = 0.05  # of the two-proportion test
    resamples: int = 1000
    seed: int = 0
    min_samples: int = 20  # fewer values on either side: not tested

    def problems(self) -> list[str]:
        checks = (
            (0 <= self.min_effect < 10, "--min-effect: a percentage from 0 to 1000"),
            (self.min_effect_ms >= 0, "--min-effect-ms: 0 or more"),
            (0.5 <= self.confidence < 1, "--confidence: from 0.5 to below 1, e.g. 0.95"),
            (0 < self.alpha < 0.5, "--alpha: above 0 and below 0.5, e.g. 0.05"),
            (100 <= self.resamples <= 100_000, "--resamples: from 100 to 100000"),
            (self.min_samples >= 2, "--min-samples: 2 or more"),
        )
        return [message for ok, message in checks if not ok]


@dataclass
class Row:
    model: str
    metric: str
    unit: str
    base: float | None
    new: float | None
    change: float | None = None
    change_relative: float | None = None
    ci: tuple[float, float] | None = None  # of new - base, in the metric's unit
    p_value: float | None = None
    verdict: str = NOT_TESTED
    reason: str = ""


@dataclass
class Comparison:
    base: str
    new: str
    options: CompareOptions
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def regressions(self) -> list[Row]:
        return [row for row in self.rows if row.verdict == REGRESSION]

    @property
    def exit_code(self) -> int:
        return EXIT_REGRESSION if self.regressions else 0

    def to_json(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "new": self.new,
            "method": asdict(self.options),
            "regressions": len(self.regressions),
            "rows": [_finite(asdict(row)) for row in self.rows],
            "notes": self.notes,
        }


def _finite(row: dict[str, Any]) -> dict[str, Any]:
    """JSON has no infinity: a change from 0 has no relative size."""
    relative = row["change_relative"]
    if relative is not None and not np.isfinite(relative):
        row["change_relative"] = None
    return row


def compare_reports(
    base: Report,
    new: Report,
    options: CompareOptions,
    labels: tuple[str, str] = ("base", "new"),
) -> Comparison:
    if problems := options.problems():
        raise ConfigError(problems, "loadgen compare")
    comparison = Comparison(base=labels[0], new=labels[1], options=options)
    if base["run"]["scenario"] != new["run"]["scenario"]:
        comparison.notes.append(
            f"different scenarios: {base['run']['scenario']!r} and {new['run']['scenario']!r}"
        )
    for label, report in zip(labels, (base, new), strict=True):
        generator = report["run"].get("generator", {})
        if generator.get("limited"):
            comparison.notes.append(
                f"{label} was generator-limited ({'; '.join(generator['limited_reasons'])}): "
                "its latencies include the generator's own delays, so a change may come from "
                "the machine, not the endpoint; rerun where the generator keeps up"
            )
    common = [model for model in base["models"] if model in new["models"]]
    if not common:
        raise ConfigError([_nothing_in_common(base, new, labels)], "loadgen compare")
    rng = np.random.default_rng(options.seed)
    for model in base["models"]:
        if model not in new["models"]:
            comparison.notes.append(f"{model}: only in {labels[0]}")
            continue
        sections = (base["models"][model], new["models"][model])
        stats = (
            read_model_stats(sections[0], model, labels[0]),
            read_model_stats(sections[1], model, labels[1]),
        )
        comparison.rows.extend(_model_rows(model, sections, stats, options, rng))
    comparison.notes.extend(
        f"{model}: only in {labels[1]}" for model in new["models"] if model not in base["models"]
    )
    return comparison


def _nothing_in_common(base: Report, new: Report, labels: tuple[str, str]) -> str:
    def models(report: Report) -> str:
        return ", ".join(report["models"]) or "no model"

    return (
        f"no model in common, nothing to compare: {labels[0]} has {models(base)}; {labels[1]} "
        f"has {models(new)}. Compare runs of the same models (loadgen run --model ID)"
    )


def _model_rows(
    model: str,
    sections: tuple[ModelSection, ModelSection],
    stats: tuple[ModelStats, ModelStats],
    options: CompareOptions,
    rng: np.random.Generator,
) -> list[Row]:
    rows = []
    for label, name, q in LATENCY_METRICS:
        distributions = tuple(Distribution.for_percentiles(s.latency[name]) for s in stats)
        rows.append(
            _bootstrapped(
                model, label, "ms", distributions, percentile(q), options, rng, scale=1e-3
            )
        )
    if any(s.reasoning_requests for s in stats):
        # With reasoning, TTFT is the first reasoning token: the answer's own wait is TTFA.
        for label, name, q in REASONING_METRICS:
            distributions = tuple(Distribution.for_percentiles(s.latency[name]) for s in stats)
            rows.append(
                _bootstrapped(
                    model, label, "ms", distributions, percentile(q), options, rng, scale=1e-3
                )
            )
    rows.append(_tokens_per_s(model, sections, stats, options, rng))
    for label, hits in (
        ("error rate", lambda s: s.sent - s.ok),
        ("throttle rate", lambda s: s.errors.get(ErrorClass.THROTTLED.value, 0)),
    ):
        rows.append(_proportion(model, label, stats, hits, options))
    for label, reasons in FLAGGED_OUTCOMES:
        # Only where a side had any: a row of zeros on every plain comparison says nothing.
        if any(_ended_by(s, reasons=reasons) for s in stats):
            rows.append(
                _proportion(model, label, stats, partial(_ended_by, reasons=reasons), options)
            )
    rows.append(_cost_per_1k(model, sections, stats, options, rng))
    return rows


def _bootstrapped(
    model: str,
    metric: str,
    unit: str,
    distributions: tuple[Distribution, ...],
    statistic: Statistic,
    options: CompareOptions,
    rng: np.random.Generator,
    *,
    scale: tuple[float, float] | float = 1.0,
    higher_is_worse: bool = True,
) -> Row:
    """`scale` turns the statistic into the metric's unit, per side (µs → ms, or a mean per
    request into a rate)."""
    base_d, new_d = distributions
    scales = scale if isinstance(scale, tuple) else (scale, scale)
    if min(base_d.n, new_d.n) < options.min_samples:
        base_value, new_value = _points(distributions, statistic, scales)
        reason = f"fewer than {options.min_samples} values on a side"
        return Row(model, metric, unit, base_value, new_value, reason=reason)
    base_value = point(base_d, statistic) * scales[0]
    new_value = point(new_d, statistic) * scales[1]
    base_draws = resample(base_d, statistic, options.resamples, rng) * scales[0]
    new_draws = resample(new_d, statistic, options.resamples, rng) * scales[1]
    low, high = difference_interval(base_draws, new_draws, options.confidence)
    row = _changed(Row(model, metric, unit, base_value, new_value, ci=(low, high)))
    clear = low > 0 or high < 0
    large = abs(row.change_relative or 0.0) >= options.min_effect
    if unit == "ms":
        large = large and abs(row.change or 0.0) >= options.min_effect_ms
    _judge(row, clear and large, higher_is_worse)
    if not clear:
        row.reason = f"{options.confidence:.0%} interval of the change includes 0"
    elif not large:
        row.reason = "smaller than the minimum effect"
    return row


def _points(
    distributions: tuple[Distribution, ...], statistic: Statistic, scales: tuple[float, float]
) -> tuple[float | None, float | None]:
    base_d, new_d = distributions
    return (
        point(base_d, statistic) * scales[0] if base_d.n else None,
        point(new_d, statistic) * scales[1] if new_d.n else None,
    )


def _tokens_per_s(
    model: str,
    sections: tuple[ModelSection, ModelSection],
    stats: tuple[ModelStats, ModelStats],
    options: CompareOptions,
    rng: np.random.Generator,
) -> Row:
    """The request rate is set by the load; the noise in tokens/s is in the tokens per
    request. So tokens/s = (tokens/s ÷ mean tokens per request) x a bootstrapped mean."""
    base_rate, new_rate = (s["throughput"]["output_tokens_per_s"] for s in sections)
    distributions = tuple(Distribution.for_means(s.tokens["output_tokens"]) for s in stats)
    if base_rate is None or new_rate is None or min(d.n for d in distributions) == 0:
        return Row(model, "output tokens/s", "tok/s", base_rate, new_rate, reason="not measured")
    scales = (base_rate / point(distributions[0], mean), new_rate / point(distributions[1], mean))
    return _bootstrapped(
        model,
        "output tokens/s",
        "tok/s",
        distributions,
        mean,
        options,
        rng,
        scale=(scales[0], scales[1]),
        higher_is_worse=False,
    )


def _cost_per_1k(
    model: str,
    sections: tuple[ModelSection, ModelSection],
    stats: tuple[ModelStats, ModelStats],
    options: CompareOptions,
    rng: np.random.Generator,
) -> Row:
    """USD per 1,000 answered requests (the report's `per_1k_answered_usd`, what the
    `cost_per_1k` threshold reads): the bootstrapped mean cost per request sent (free ones
    count as 0), scaled to the exact figure. The scale holds each run's answered share fixed:
    a change in it is the error-rate row's to test."""
    base_cost, new_cost = (s["cost"] for s in sections)
    # .get: a report from before schema_version 3 has per_1k_requests, per request sent.
    base_1k = None if base_cost is None else base_cost.get("per_1k_answered_usd")
    new_1k = None if new_cost is None else new_cost.get("per_1k_answered_usd")
    if base_cost is None or new_cost is None:
        return Row(model, "cost per 1k", "USD", base_1k, new_1k, reason="not priced")
    if "per_1k_answered_usd" not in base_cost or "per_1k_answered_usd" not in new_cost:
        reason = "a report from before schema_version 3 has no cost per answered request"
        return Row(model, "cost per 1k", "USD", base_1k, new_1k, reason=reason)
    distributions = tuple(
        Distribution.for_means(s.cost.histogram, zeros=s.cost.zero) for s in stats
    )
    if base_1k is None or new_1k is None or min(d.n for d in distributions) == 0:
        return Row(model, "cost per 1k", "USD", base_1k, new_1k, reason="not priced")
    scales = tuple(
        (v / point(d, mean) if point(d, mean) else 0.0)
        for v, d in zip((base_1k, new_1k), distributions, strict=True)
    )
    return _bootstrapped(
        model, "cost per 1k", "USD", distributions, mean, options, rng, scale=(scales[0], scales[1])
    )


def _proportion(
    model: str,
    metric: str,
    stats: tuple[ModelStats, ModelStats],
    hits: Callable[[ModelStats], int],
    options: CompareOptions,
) -> Row:
    base, new = stats
    if not base.sent or not new.sent:
        return Row(model, metric, "rate", None, None, reason="nothing sent on a side")
    row = _changed(Row(model, metric, "rate", hits(base) / base.sent, hits(new) / new.sent))
    row.p_value = two_proportion_p_value(hits(base), base.sent, hits(new), new.sent)
    clear = row.p_value < options.alpha
    _judge(row, clear, higher_is_worse=True)
    if not clear:
        row.reason = f"p = {row.p_value:.2g} >= {options.alpha:g}"
    return row


def _changed(row: Row) -> Row:
    assert row.base is not None and row.new is not None
    row.change = row.new - row.base
    row.change_relative = row.change / row.base if row.base else None
    if row.change_relative is None and row.change:
        row.change_relative = float("inf") if row.change > 0 else float("-inf")
    return row


def _judge(row: Row, significant: bool, higher_is_worse: bool) -> None:
    if not significant:
        row.verdict = NO_CHANGE
        return
    worse = (row.change or 0.0) > 0 if higher_is_worse else (row.change or 0.0) < 0
    row.verdict = REGRESSION if worse else IMPROVEMENT
