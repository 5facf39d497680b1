"""The report section of `compare_streaming`: the same prompts through a streaming API and its
non-streaming twin, side by side per model (TTFT, TTLT, server latency, client overhead).

Non-streaming answers arrive whole, so their TTFT is null: not measured, not zero.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from loadgen.config.apis import STREAMING as STREAMING_APIS
from loadgen.report.schema import (
    ModelSection,
    Report,
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


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def print_server_timings(report: Report, console: Console) -> None:
    """Bedrock's own latency beside the client's E2E, and the difference (client overhead)."""
    models = {
        model: data["latency_ms"]
        for model, data in report["models"].items()
        # .get: a report saved before the server's timings were measured has none.
        if (server := data["latency_ms"].get("server_latency")) and server["count"]
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


def print_streaming_comparison(report: Report, console: Console) -> None:
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
        for streamed, api, figures in (
            (True, section["streaming_api"], row["streaming"]),
            (False, section["non_streaming_api"], row["non_streaming"]),
        ):
            table.add_row(
                row["model"],
                api,
                f"{figures['ok']}/{figures['sent']}",
                _ms(figures["ttft_p50_ms"]) if streamed else "n/a",
                _ms(figures["ttlt_p50_ms"]),
                _ms(figures["ttlt_p99_ms"]),
                _ms(figures["server_latency_p50_ms"]),
            )
    console.print(table)
