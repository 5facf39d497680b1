"""The scenario's thresholds as CloudWatch alarms, as a pure function of the scenario.

A threshold says what is good (`ttft.p99 < 800ms`); its alarm fires when that stops being
true over one period: TTFT's p99 ≥ 800 ms. One alarm per (threshold, model), on the metric
the sink publishes with the scenario's dimensions. What CloudWatch cannot compute from those
metrics (response time, quality scores, cost percentiles) is refused, with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loadgen.config.thresholds import Check

# The alarm fires on the negation of the check.
BREACH = {
    "<": "GreaterThanOrEqualToThreshold",
    "<=": "GreaterThanThreshold",
    ">": "LessThanOrEqualToThreshold",
    ">=": "LessThanThreshold",
}
# Our duration metrics in thresholds.py, by the name the sink publishes them under.
DURATION_METRICS = {
    "ttft": "TTFT",
    "ttlt": "TTLT",
    "itl": "ITL",
    "tpot": "TPOT",
    "schedule_lag": "ScheduleLag",
}
STATISTICS = {"mean": "Average", "max": "Maximum"}  # the rest are percentiles, as written
PERCENTILES = {"p999": "p99.9"}
# Per-second rates: a counter summed over the period, divided by the period.
RATE_METRICS = {
    "requests_per_s": "Requests",
    "ok_per_s": "Successes",
    "output_tokens_per_s": "OutputTokens",
}
REFUSED = {
    "ttft_response": "response time (from the intended start) is not published to CloudWatch",
    "ttlt_response": "response time (from the intended start) is not published to CloudWatch",
    "quality": "quality scores are not published to CloudWatch",
}
COMPUTED = frozenset(
    {"error_rate", "throttle_rate", "cost_per_1k", "cost_per_request", "cost_per_hour"}
)
HOUR_S = 3600


@dataclass(frozen=True)
class Refusal:
    check: Check
    reason: str

    def __str__(self) -> str:
        return f"not an alarm: `{self.check.text}`: {self.reason}"


def alarm_period(interval_s: float, storage_resolution: int) -> int:
    """The shortest period an alarm can use that holds at least one published interval."""
    if storage_resolution == 1:
        for period in (10, 30):
            if interval_s <= period:
                return period
    return 60 * max(1, math.ceil(interval_s / 60))


def alarm_requests(
    checks: Sequence[Check],
    *,
    scenario: str,
    models: Sequence[str],
    namespace: str = "LLM/LoadTest",
    dimensions: Mapping[str, str] | None = None,
    period_s: int = 60,
    topic_arn: str | None = None,
) -> tuple[list[dict[str, Any]], list[Refusal]]:
    """PutMetricAlarm parameters, one per (check, model), and the checks refused."""
    requests: list[dict[str, Any]] = []
    refused: list[Refusal] = []
    for check in checks:
        reason = _refusal(check)
        if reason is not None:
            refused.append(Refusal(check, reason))
            continue
        for model in models:
            if check.model is not None and check.model != model:
                continue
            dims = [
                {"Name": "Model", "Value": model},
                {"Name": "Scenario", "Value": scenario},
                *({"Name": k, "Value": str(v)} for k, v in (dimensions or {}).items()),
            ]
            request = {
                "AlarmName": alarm_name(scenario, model, check),
                "AlarmDescription": (
                    f"loadgen threshold `{check.text}` for {model} in scenario {scenario}; "
                    f"in alarm when it does not hold over a period"
                ),
                "ComparisonOperator": BREACH[check.op],
                "Threshold": check.limit,
                "EvaluationPeriods": 1,
                # No traffic is no evidence of a breach: a finished load test must not alarm.
                "TreatMissingData": "notBreaching",
                **_metric(check, namespace, dims, period_s),
            }
            if topic_arn:
                request["AlarmActions"] = [topic_arn]
            requests.append(request)
    return requests, refused


def alarm_name(scenario: str, model: str, check: Check) -> str:
    name = f"loadgen {scenario} {model} {check.text}"
    return name.encode("ascii", "replace").decode()[:255]


def _refusal(check: Check) -> str | None:
    if check.metric in REFUSED:
        return REFUSED[check.metric]
    if check.metric == "cost_per_request" and check.stat not in (None, "mean"):
        return "cost per request is published as a sum, so only its mean can be an alarm"
    if check.metric not in {*DURATION_METRICS, *RATE_METRICS, *COMPUTED}:
        return "loadgen publishes no CloudWatch metric it could be computed from"
    return None


def _metric(
    check: Check, namespace: str, dims: list[dict[str, str]], period_s: int
) -> dict[str, Any]:
    """The metric (or metric math) part of PutMetricAlarm for one check."""

    def stat(name: str, statistic: str = "Sum", period: int = period_s) -> dict[str, Any]:
        return {
            "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dims},
            "Period": period,
            "Stat": statistic,
        }

    def math(expression: str, label: str, **inputs: str) -> dict[str, Any]:
        metrics: list[dict[str, Any]] = [
            {"Id": key, "MetricStat": stat(name), "ReturnData": False}
            for key, name in inputs.items()
        ]
        metrics.append({"Id": "result", "Expression": expression, "Label": label})
        return {"Metrics": metrics}

    metric = check.metric
    if metric in DURATION_METRICS:
        name = DURATION_METRICS[metric]
        base = {"Namespace": namespace, "MetricName": name, "Dimensions": dims}
        assert check.stat is not None  # every duration metric has a default statistic
        if check.stat in STATISTICS:
            return {**base, "Period": period_s, "Statistic": STATISTICS[check.stat]}
        percentile = PERCENTILES.get(check.stat, check.stat)
        return {**base, "Period": period_s, "ExtendedStatistic": percentile}
    if metric == "error_rate":  # as the report: (sent - ok) / sent
        return math(
            "(requests - successes) / requests", metric, requests="Requests", successes="Successes"
        )
    if metric == "throttle_rate":
        return math("throttles / requests", metric, throttles="Throttles", requests="Requests")
    if metric in RATE_METRICS:
        return math("count / PERIOD(count)", metric, count=RATE_METRICS[metric])
    if metric == "cost_per_1k":  # per answered request, as the report's per_1k_answered_usd
        return math("1000 * cost / successes", metric, cost="CostUSD", successes="Successes")
    if metric == "cost_per_request":
        return math("cost / requests", metric, cost="CostUSD", requests="Requests")
    if metric == "cost_per_hour":  # what was actually spent over the last hour
        return {
            "Namespace": namespace,
            "MetricName": "CostUSD",
            "Dimensions": dims,
            "Period": HOUR_S,
            "Statistic": "Sum",
        }
    raise AssertionError(f"{metric!r} passed _refusal without a mapping")
