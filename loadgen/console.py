"""The console summary: one table per run, a row per model, read from the report."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from loadgen.thresholds import METRICS, format_value


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:,.1f}"


def print_summary(report: dict[str, Any], console: Console) -> None:
    run = report["run"]
    generator = run["generator"]
    title = f"{run['scenario']} — {run['status']}"
    table = Table(title=title, title_justify="left")
    widest = max((len(model) for model in report["models"]), default=5)
    table.add_column("model", no_wrap=True, min_width=widest)
    for column in ("sent", "ok", "throttled", "errors"):
        table.add_column(column, justify="right")
    for column in ("TTFT p50", "TTFT p99", "TTFT p99 resp", "TTLT p50", "TTLT p99", "ITL p50"):
        table.add_column(f"{column} ms", justify="right")
    table.add_column("out tok/s", justify="right")
    for model, data in report["models"].items():
        requests, latency = data["requests"], data["latency_ms"]
        errors = sum(requests["errors"].values()) - requests["errors"]["throttled"]
        table.add_row(
            model,
            str(requests["sent"]),
            str(requests["ok"]),
            str(requests["errors"]["throttled"]),
            str(errors),
            _ms(latency["ttft"]["service"]["p50"]),
            _ms(latency["ttft"]["service"]["p99"]),
            _ms(latency["ttft"]["response"]["p99"]),
            _ms(latency["ttlt"]["service"]["p50"]),
            _ms(latency["ttlt"]["service"]["p99"]),
            _ms(latency["itl"]["p50"]),
            _ms(data["throughput"]["output_tokens_per_s"]),
        )
    console.print(table)
    _print_comparison(report, console)
    lag = generator["lag_ms"]
    if run["load"].get("model") == "closed_loop":
        console.print(
            f"generator: closed loop, {run['load']['concurrency']} users, achieved "
            f"{generator['achieved_rps'] or 0:.2f} req/s (an outcome, not a target; schedule "
            f"lag does not apply), CPU {generator['cpu_percent']:.0f} %"
        )
    else:
        console.print(
            f"generator: target {generator['target_rps']:g} req/s, achieved "
            f"{generator['achieved_rps'] or 0:.2f} req/s, lag p99 {_ms(lag['p99'])} ms, "
            f"dropped {generator['dropped']}, CPU {generator['cpu_percent']:.0f} %"
        )
    _print_thresholds(report, console)
    for reason in generator["limited_reasons"]:
        console.print(f"[yellow]generator-limited: {reason}[/yellow]")
    if run["status"] != "completed" and run.get("status_reason"):
        console.print(f"[yellow]{run['status']}: {run['status_reason']}[/yellow]")


def _print_comparison(report: dict[str, Any], console: Console) -> None:
    rows = report.get("comparison") or []
    if not rows:
        return
    table = Table(title="models side by side", title_justify="left")
    table.add_column("model", no_wrap=True)
    for column in (
        "$ / 1k req",
        "TTFT p50 ms",
        "TTFT p95 ms",
        "TTLT p95 ms",
        "out tok/s",
        "error rate",
    ):
        table.add_column(column, justify="right")
    for row in rows:
        cost = row["cost_per_1k_requests_usd"]
        error_rate = row["error_rate"]
        table.add_row(
            row["model"],
            "unpriced" if cost is None else f"{cost:,.4f}",
            _ms(row["ttft_p50_ms"]),
            _ms(row["ttft_p95_ms"]),
            _ms(row["ttlt_p95_ms"]),
            _ms(row["output_tokens_per_s"]),
            "-" if error_rate is None else f"{error_rate:.2%}",
        )
    console.print(table)
    spent = report["run"]["cost"].get("spent_usd")
    total = sum((m["cost"] or {}).get("total_usd") or 0 for m in report["models"].values())
    budget = report["run"]["cost"].get("budget_usd")
    line = f"cost of this run: ${total:,.6f}"
    if budget is not None:
        line += f" (budget ${budget:g}, guard counted ${spent or 0:,.6f})"
    console.print(line)


def _print_thresholds(report: dict[str, Any], console: Console) -> None:
    section = report.get("thresholds")
    if not section:
        return
    table = Table(title="thresholds", title_justify="left")
    for column in ("check", "model", "measured", "result"):
        table.add_column(column, no_wrap=column != "model")
    for result in section["results"]:
        kind = METRICS[result["metric"]].kind
        verdict = "[green]pass[/green]" if result["passed"] else "[red]FAIL[/red]"
        table.add_row(
            result["check"], result["model"], format_value(kind, result["measured"]), verdict
        )
    console.print(table)
    if not section["passed"]:
        console.print(f"[red]{section['failed']} threshold(s) failed: exit code 99[/red]")
