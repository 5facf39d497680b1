"""The CloudWatch dashboard of a scenario, as a pure function of it.

One widget per figure, one line per model: TTFT and TTLT p50/p90/p99, output tokens/s,
requests, errors and throttles, cost (from our namespace and dimensions), then Bedrock's own
`AWS/Bedrock` metrics for the same models, so that what the client measured and what the
service reports sit side by side. The body follows the CloudWatch dashboard body structure
(widgets of type `metric` with `properties.metrics` rows); docs/cloudwatch.md shows it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

BEDROCK_NAMESPACE = "AWS/Bedrock"
WIDTH = 12  # half of the dashboard's 24 columns: two widgets a row
HEIGHT = 6
# Cross-region (system-defined) inference profile ids: the geography, a dot, the model id.
_PROFILE_PREFIX = re.compile(r"^(us|eu|apac|us-gov|ca|jp|au|global)\.(?=[a-z0-9-]+\.)")
# (title, metric, statistic) of our own metrics; one widget each.
OWN_WIDGETS: tuple[tuple[str, str, str], ...] = (
    ("TTFT p50 (ms)", "TTFT", "p50"),
    ("TTFT p90 (ms)", "TTFT", "p90"),
    ("TTFT p99 (ms)", "TTFT", "p99"),
    ("TTLT p50 (ms)", "TTLT", "p50"),
    ("TTLT p90 (ms)", "TTLT", "p90"),
    ("TTLT p99 (ms)", "TTLT", "p99"),
    ("Decode speed p50 (output tokens/s per request)", "OutputTokensPerSecond", "p50"),
    ("Requests", "Requests", "Sum"),
    ("Errors", "Errors", "Sum"),
    ("Throttles", "Throttles", "Sum"),
    ("Cost (USD)", "CostUSD", "Sum"),
)
# (title, metric, statistic) of Bedrock's metrics, dimension ModelId.
BEDROCK_WIDGETS: tuple[tuple[str, str, str], ...] = (
    ("Bedrock Invocations", "Invocations", "Sum"),
    ("Bedrock InvocationLatency p99 (ms)", "InvocationLatency", "p99"),
    ("Bedrock InvocationThrottles", "InvocationThrottles", "Sum"),
    ("Bedrock InputTokenCount", "InputTokenCount", "Sum"),
    ("Bedrock OutputTokenCount", "OutputTokenCount", "Sum"),
    ("Bedrock TimeToFirstToken p99 (ms)", "TimeToFirstToken", "p99"),
)


def dashboard_name(scenario: str) -> str:
    """A valid dashboard name (A-Z, a-z, 0-9, - and _, at most 255) for the scenario."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"loadgen-{scenario}")[:255]


def bedrock_model_ids(model: str) -> list[str]:
    """The ModelId values under which AWS/Bedrock may file a model's metrics.

    The id as invoked comes first (a cross-region profile such as us.amazon.nova-lite-v1:0 is
    filed under that id); for a profile, the base model id follows, so that the widget shows
    data whichever of the two the account's metrics carry.
    """
    base = _PROFILE_PREFIX.sub("", model)
    return [model] if base == model else [model, base]


def dashboard_body(
    *,
    scenario: str,
    models: Sequence[str],
    region: str,
    namespace: str = "LLM/LoadTest",
    dimensions: Mapping[str, str] | None = None,
    period_s: int = 60,
) -> dict[str, Any]:
    """The DashboardBody (as a dict: json.dumps it for PutDashboard)."""
    extra = [part for name, value in (dimensions or {}).items() for part in (name, str(value))]

    def own(metric: str, model: str) -> list[Any]:
        return [namespace, metric, "Model", model, "Scenario", scenario, *extra]

    widgets: list[dict[str, Any]] = []

    def add(title: str, rows: list[list[Any]], stat: str) -> None:
        index = len(widgets)
        widgets.append(
            {
                "type": "metric",
                "x": (index % 2) * WIDTH,
                "y": (index // 2) * HEIGHT,
                "width": WIDTH,
                "height": HEIGHT,
                "properties": {
                    "title": title,
                    "view": "timeSeries",
                    "stacked": False,
                    "region": region,
                    "stat": stat,
                    "period": period_s,
                    "metrics": rows,
                },
            }
        )

    for title, metric, stat in OWN_WIDGETS:
        add(title, [[*own(metric, m), {"label": m}] for m in models], stat)
    # Throughput: output tokens summed per period, divided by the period in seconds.
    rows: list[list[Any]] = []
    for i, model in enumerate(models):
        rows.append([*own("OutputTokens", model), {"id": f"m{i}", "visible": False}])
        rows.append([{"expression": f"m{i} / PERIOD(m{i})", "label": model, "id": f"e{i}"}])
    add("Output tokens/s", rows, "Sum")
    for title, metric, stat in BEDROCK_WIDGETS:
        add(
            title,
            [
                [BEDROCK_NAMESPACE, metric, "ModelId", model_id, {"label": model_id}]
                for m in models
                for model_id in bedrock_model_ids(m)
            ],
            stat,
        )
    return {"start": "-PT3H", "periodOverride": "inherit", "widgets": widgets}
