"""The report section of `compare_streaming`: the same prompts through a streaming API and its
non-streaming twin, side by side per model (TTFT, TTLT, server latency, client overhead).

Non-streaming answers arrive whole, so their TTFT is null: not measured, not zero.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from loadgen.config.apis import STREAMING as STREAMING_APIS


def comparison_section(
    primary_api: str,
    compared_api: str | None,
    primary: dict[str, dict[str, Any]],
    compared: dict[str, dict[str, Any]],
) -> dict[str, Any] | None:
    """None unless the run used two APIs. `primary` and `compared` are per-model reports."""
    if compared_api is None:
        return None
    by_api = {primary_api: primary, compared_api: compared}
    streaming = primary_api if primary_api in STREAMING_APIS else compared_api
    non_streaming = compared_api if streaming == primary_api else primary_api
    rows = []
    for model in primary:
        figures = {api: _figures(by_api[api].get(model)) for api in (streaming, non_streaming)}
        ttlt = [figures[api]["ttlt_p50_ms"] for api in (streaming, non_streaming)]
        rows.append(
            {
                "model": model,
                "streaming": figures[streaming],
                "non_streaming": figures[non_streaming],
                # Positive: the non-streaming answer took longer end to end.
                "ttlt_p50_difference_ms": (None if None in ttlt else round(ttlt[1] - ttlt[0], 3)),
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


def _figures(report: dict[str, Any] | None) -> dict[str, Any]:
    if report is None:
        report = {"requests": {"sent": 0, "ok": 0}, "latency_ms": {}}
    latency = report["latency_ms"]

    def pick(*path: str) -> Any:
        node: Any = latency
        for part in path:
            node = (node or {}).get(part)
        return node

    return {
        "sent": report["requests"]["sent"],
        "ok": report["requests"]["ok"],
        "ttft_p50_ms": pick("ttft", "service", "p50"),
        "ttft_p99_ms": pick("ttft", "service", "p99"),
        "ttlt_p50_ms": pick("ttlt", "service", "p50"),
        "ttlt_p99_ms": pick("ttlt", "service", "p99"),
        "server_latency_p50_ms": pick("server_latency", "p50"),
        "server_latency_p99_ms": pick("server_latency", "p99"),
        "client_overhead_p50_ms": pick("client_overhead", "p50"),
    }


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:,.1f}"


def print_server_timings(report: dict[str, Any], console: Console) -> None:
    """Bedrock's own latency beside the client's E2E, and the difference (client overhead)."""
    models = {
        model: data["latency_ms"]
        for model, data in report["models"].items()
        if (data["latency_ms"].get("server_latency") or {}).get("count")
    }
    if not models:
        return
    table = Table(title="server timings (the server's own figures)", title_justify="left")
    table.add_column("model", no_wrap=True)
    for column in (
        "TTLT p50 ms",
        "server p50 ms",
        "server p99 ms",
        "first byte p50 ms",
        "overhead p50 ms",
        "overhead p99 ms",
    ):
        table.add_column(column, justify="right")
    for model, latency in models.items():
        table.add_row(
            model,
            _ms(latency["ttlt"]["service"]["p50"]),
            _ms(latency["server_latency"]["p50"]),
            _ms(latency["server_latency"]["p99"]),
            _ms(latency["server_first_byte"]["p50"]),
            _ms(latency["client_overhead"]["p50"]),
            _ms(latency["client_overhead"]["p99"]),
        )
    console.print(table)


def print_streaming_comparison(report: dict[str, Any], console: Console) -> None:
    section = report.get("streaming_comparison")
    if not section:
        return
    table = Table(
        title=f"streaming ({section['streaming_api']}) vs not ({section['non_streaming_api']})",
        title_justify="left",
    )
    table.add_column("model", no_wrap=True)
    table.add_column("api", no_wrap=True)
    for column in ("ok", "TTFT p50 ms", "TTLT p50 ms", "TTLT p99 ms", "server p50 ms"):
        table.add_column(column, justify="right")
    for row in section["models"]:
        for label, api in (
            ("streaming", section["streaming_api"]),
            ("non_streaming", section["non_streaming_api"]),
        ):
            figures = row[label]
            table.add_row(
                row["model"],
                api,
                f"{figures['ok']}/{figures['sent']}",
                _ms(figures["ttft_p50_ms"]) if label == "streaming" else "n/a",
                _ms(figures["ttlt_p50_ms"]),
                _ms(figures["ttlt_p99_ms"]),
                _ms(figures["server_latency_p50_ms"]),
            )
    console.print(table)
