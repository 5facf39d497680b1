"""Checks like `ttft.p95 < 800ms`, parsed once and evaluated against a report's model section.

One language for every place a team writes down what "good enough" means: the scenario's
`thresholds:` (a failed one makes `loadgen run` exit 99, as k6 does), `requirements:` (the
study's verdict per model), the SLOs a sweep looks for and the alarms put into CloudWatch.

One grammar, the same in `thresholds:` and `requirements:` (docs/scenario.md, "Thresholds and
requirements"): a metric, optionally a statistic, a comparison and a limit with its unit:

    metric[.stat] op limit      ttft.p95 < 800ms     error_rate < 1%     cost_per_1k <= 2.00

`ttft_p95 <= 1s` (the statistic after an underscore) is the older spelling of `ttft.p95 <= 1s`
and reads the same. It can never mean anything else: no metric is named like another metric
with one of its statistics appended (checked below), and a name that mixes both spellings
(`ttft_p95.p99`) is refused rather than guessed.

Limits are kept in the report's own units: milliseconds for durations, a fraction for rates,
US dollars for costs. The metric table below is the one place that maps a name to the report.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from loadgen.core.report_parts import CheckOp, CheckResult, CheckUnit, ThresholdsSection

Kind = Literal["duration", "ratio", "usd", "number"]
Op = CheckOp

DURATION_STATS = ("p50", "p90", "p95", "p99", "p999", "mean", "max")
SCORE_STATS = ("mean", "p10", "p50")
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_DURATION_UNITS = {"us": 0.001, "µs": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _path(*keys: str) -> Callable[[Mapping[str, object], str | None], object]:
    """A reader that walks keys into the model section, then takes the statistic if any."""

    def read(section: Mapping[str, object], stat: str | None) -> object:
        node: object = section
        for key in (*keys, stat) if stat else keys:
            if not isinstance(node, Mapping) or key not in node:
                return None
            node = node[key]
        return node

    return read


@dataclass(frozen=True)
class Metric:
    kind: Kind
    read: Callable[[Mapping[str, object], str | None], object]
    stats: tuple[str, ...] = ()  # the statistics it takes; empty: none
    default_stat: str | None = None
    description: str = ""


METRICS: dict[str, Metric] = {
    "ttft": Metric(
        "duration",
        _path("latency_ms", "ttft", "service"),
        DURATION_STATS,
        "p95",
        "time to first token from send",
    ),
    "ttft_response": Metric(
        "duration",
        _path("latency_ms", "ttft", "response"),
        DURATION_STATS,
        "p95",
        "time to first token from the intended start",
    ),
    "ttlt": Metric(
        "duration",
        _path("latency_ms", "ttlt", "service"),
        DURATION_STATS,
        "p95",
        "time to last byte from send",
    ),
    "ttlt_response": Metric(
        "duration",
        _path("latency_ms", "ttlt", "response"),
        DURATION_STATS,
        "p95",
        "time to last byte from the intended start",
    ),
    "itl": Metric("duration", _path("latency_ms", "itl"), DURATION_STATS, "p95", "inter-token"),
    "tpot": Metric("duration", _path("latency_ms", "tpot"), DURATION_STATS, "p95", "per token"),
    "schedule_lag": Metric(
        "duration", _path("latency_ms", "schedule_lag"), DURATION_STATS, "p99", "dispatch lag"
    ),
    "error_rate": Metric("ratio", _path("requests", "error_rate"), (), None, "not ok / sent"),
    "throttle_rate": Metric(
        "ratio", _path("requests", "throttle_rate"), (), None, "throttled / sent"
    ),
    "requests_per_s": Metric(
        "number", _path("throughput", "requests_per_s"), (), None, "completed requests/s"
    ),
    "ok_per_s": Metric("number", _path("throughput", "ok_per_s"), (), None, "successes/s"),
    "output_tokens_per_s": Metric(
        "number", _path("throughput", "output_tokens_per_s"), (), None, "output tokens/s"
    ),
    "cost_per_1k": Metric(
        "usd",
        _path("cost", "per_1k_answered_usd"),
        (),
        None,
        "USD per 1,000 answered requests",
    ),
    "cost_per_request": Metric(
        "usd",
        _path("cost", "per_sent_request"),
        ("mean", "p50", "p99"),
        "mean",
        "USD per request sent",
    ),
    "cost_per_hour": Metric(
        "usd",
        _path("cost", "projection", "at_tested_rps", "per_hour"),
        (),
        None,
        "USD per hour at the tested rate",
    ),
    "quality": Metric("number", _path("quality", "score"), SCORE_STATS, "mean", "0..1 score"),
}


def _one_reading_each() -> None:
    """The older spelling `metric_stat` must have one reading: no metric may be named like
    another metric followed by `_` and one of that metric's statistics."""
    for name in METRICS:
        head, _, tail = name.rpartition("_")
        if head in METRICS and tail in METRICS[head].stats:
            raise AssertionError(f"metric {name!r} reads as {head}.{tail}: rename it")


_one_reading_each()

_CHECK = re.compile(
    r"^\s*(?P<name>[a-z][a-z0-9_]*)(?:\.(?P<stat>[a-z0-9]+))?\s*"
    r"(?P<op><=|>=|<|>)\s*(?P<limit>\S+)\s*$"
)
_NUMBER = re.compile(r"^\$?(?P<value>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?P<unit>[a-zµ%]*)$")


@dataclass(frozen=True)
class Check:
    """One parsed check. `limit` is in the report's unit (ms, fraction, USD, plain)."""

    text: str
    metric: str
    stat: str | None
    op: Op
    limit: float
    model: str | None = None  # None: every model

    @property
    def kind(self) -> Kind:
        return METRICS[self.metric].kind

    def measured(self, section: Mapping[str, object]) -> float | None:
        value = METRICS[self.metric].read(section, self.stat)
        return float(value) if isinstance(value, int | float) else None

    def holds(self, value: float) -> bool:
        return _OPS[self.op](value, self.limit)


def parse_check(text: str, model: str | None = None) -> Check:
    """Parse `metric[.stat] op limit`; ValueError says what is wrong and what would be right."""
    match = _CHECK.match(text)
    if match is None:
        raise ValueError(
            f"cannot read check {text!r}: write `metric[.stat] <|<=|>|>= limit`, "
            "for example `ttft.p95 < 800ms` or `error_rate < 1%`"
        )
    name, stat = match["name"], match["stat"]
    head, _, tail = name.rpartition("_")
    if name not in METRICS and head in METRICS and tail in METRICS[head].stats:
        # `ttft_p95` is the older spelling of `ttft.p95` (requirements were written so).
        if stat is not None:
            raise ValueError(
                f"{text!r} gives two statistics, {tail!r} and {stat!r}: write "
                f"`{head}.{tail}` or `{head}.{stat}`"
            )
        name, stat = head, tail
    elif name not in METRICS and head in METRICS and stat is None:
        allowed = ", ".join(METRICS[head].stats) or "none"
        raise ValueError(f"{head!r} takes no statistic {tail!r} in {text!r}; it takes: {allowed}")
    if name not in METRICS:
        known = ", ".join(sorted(METRICS))
        raise ValueError(f"unknown metric {name!r} in {text!r}; known metrics: {known}")
    metric = METRICS[name]
    if stat is None:
        stat = metric.default_stat
    elif stat not in metric.stats:
        allowed = ", ".join(metric.stats) or "none"
        raise ValueError(f"{name!r} takes no statistic {stat!r} in {text!r}; it takes: {allowed}")
    limit = _limit(metric.kind, match["limit"], text)
    op: Op = match["op"]  # type: ignore[assignment]  # the regex admits only these four
    return Check(text=text.strip(), metric=name, stat=stat, op=op, limit=limit, model=model)


def _limit(kind: Kind, raw: str, text: str) -> float:
    number = _NUMBER.match(raw)
    if number is None:
        raise ValueError(f"cannot read the limit {raw!r} in {text!r}: expected a number")
    value, unit = float(number["value"]), number["unit"]
    if raw.startswith("$") and kind != "usd":
        raise ValueError(f"{raw!r} in {text!r} is money, but the metric is not a cost")
    if kind == "duration":
        if unit not in ("", *_DURATION_UNITS):
            raise ValueError(f"unknown time unit {unit!r} in {text!r}; use us, ms, s or m")
        return value * _DURATION_UNITS.get(unit, 1.0)  # a bare number is milliseconds
    if kind == "ratio":
        if unit not in ("", "%"):
            raise ValueError(f"a rate takes % or a fraction, not {unit!r}, in {text!r}")
        limit = value / 100 if unit == "%" else value
        if limit > 1:
            raise ValueError(f"a rate above 100 % in {text!r}; write 1% or 0.01")
        return limit
    if unit:
        raise ValueError(f"{raw!r} in {text!r} takes no unit")
    return value


@dataclass(frozen=True)
class Outcome:
    check: Check
    model: str
    measured: float | None

    @property
    def passed(self) -> bool:
        # No data is no evidence that the check holds: a TTFT check on a non-streaming API,
        # or a cost check on an unpriced model, fails and says why.
        return self.measured is not None and self.check.holds(self.measured)

    def to_json(self) -> CheckResult:
        check = self.check
        return {
            "check": check.text,
            "model": self.model,
            "metric": check.metric,
            "stat": check.stat,
            "op": check.op,
            "limit": check.limit,
            "unit": _UNITS[check.kind],
            "measured": self.measured,
            "passed": self.passed,
            "reason": None if self.measured is not None else "no data for this metric",
        }


_UNITS: dict[Kind, CheckUnit] = {"duration": "ms", "ratio": "fraction", "usd": "USD", "number": ""}


def kind_of_unit(unit: str) -> Kind:
    """The kind of check a report.json result's unit stands for (a plain number for any other)."""
    return next((kind for kind, known in _UNITS.items() if known == unit), "number")


def evaluate(checks: Iterable[Check], models: Mapping[str, Mapping[str, object]]) -> list[Outcome]:
    """Each check against each model it applies to (a check without a model: every model)."""
    outcomes = []
    for check in checks:
        for model, section in models.items():
            if check.model is None or check.model == model:
                outcomes.append(Outcome(check, model, check.measured(section)))
    return outcomes


def report_section(outcomes: list[Outcome]) -> ThresholdsSection:
    return {
        "passed": all(o.passed for o in outcomes),
        "failed": sum(not o.passed for o in outcomes),
        "results": [o.to_json() for o in outcomes],
    }


def format_value(kind: Kind, value: float | None) -> str:
    """A measured value or limit as people write it: 812.4 ms, 0.80 %, $1.9200."""
    if value is None:
        return "no data"
    if kind == "duration":
        return f"{value:,.1f} ms"
    if kind == "ratio":
        return f"{value:.2%}"
    if kind == "usd":
        return f"${value:,.4f}"
    return f"{value:,.3g}"
