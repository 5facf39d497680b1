"""The report section of `compare_streaming`: the same prompts through a streaming API and its
non-streaming twin, side by side per model (TTFT, TTLT, server latency, client overhead).

Non-streaming answers arrive whole, so their TTFT is null: not measured, not zero.
"""

from __future__ import annotations

from loadgen.config.apis import STREAMING as STREAMING_APIS
from loadgen.report.schema import (
    ModelSection,
    StreamingComparison,
    StreamingFigures,
    StreamingRow,
)


def comparison_section(
    primary_api: str,
    compared_api: str | None,
    primary: dict[str, ModelSection],
    compared: dict[str, ModelSection],
) -> StreamingComparison | None:
    """None unless the run used two APIs. `primary` and `compared` are per-model reports."""
    if compared_api is None:
        return None
    by_api = {primary_api: primary, compared_api: compared}
    streaming = primary_api if primary_api in STREAMING_APIS else compared_api
    non_streaming = compared_api if streaming == primary_api else primary_api
    rows: list[StreamingRow] = []
    for model in primary:
        figures = {api: _figures(by_api[api].get(model)) for api in (streaming, non_streaming)}
        fast, slow = (figures[api]["ttlt_p50_ms"] for api in (streaming, non_streaming))
        rows.append(
            {
                "model": model,
                "streaming": figures[streaming],
                "non_streaming": figures[non_streaming],
                # Positive: the non-streaming answer took longer end to end.
                "ttlt_p50_difference_ms": (
                    None if fast is None or slow is None else round(slow - fast, 3)
                ),
            }
        )
    return {
        "streaming_api": streaming,
        "non_streaming_api": non_streaming,
        "models": rows,
        # The full per-model report of the API that is not under `models`.
        "compared_api": compared_api,
        "compared_models": compared,
    }


def _figures(report: ModelSection | None) -> StreamingFigures:
    """A model through one API; nothing measured (all null) when it sent nothing there."""
    if report is None:
        return {
            "sent": 0,
            "ok": 0,
            "ttft_p50_ms": None,
            "ttft_p99_ms": None,
            "ttlt_p50_ms": None,
            "ttlt_p99_ms": None,
            "server_latency_p50_ms": None,
            "server_latency_p99_ms": None,
            "client_overhead_p50_ms": None,
        }
    latency = report["latency_ms"]
    ttft, ttlt = latency["ttft"]["service"], latency["ttlt"]["service"]
    return {
        "sent": report["requests"]["sent"],
        "ok": report["requests"]["ok"],
        "ttft_p50_ms": ttft["p50"],
        "ttft_p99_ms": ttft["p99"],
        "ttlt_p50_ms": ttlt["p50"],
        "ttlt_p99_ms": ttlt["p99"],
        "server_latency_p50_ms": latency["server_latency"]["p50"],
        "server_latency_p99_ms": latency["server_latency"]["p99"],
        "client_overhead_p50_ms": latency["client_overhead"]["p50"],
    }
