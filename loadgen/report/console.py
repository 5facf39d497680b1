"""The console summary: one table per run, a row per model, read from the report."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from loadgen.config.thresholds import METRICS, format_value
from loadgen.report.schema import REPORTED_ERRORS, Report
from loadgen.report.streaming_comparison import print_server_timings, print_streaming_comparison


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def print_summary(report: Report, console: Console) -> None:
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
        errors = sum(requests["errors"][name] for name in REPORTED_ERRORS if name != "throttled")
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
    print_server_timings(report, console)
    print_streaming_comparison(report, console)
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
    _print_verdict(report, console)
    for reason in generator["limited_reasons"]:
        console.print(f"[yellow]generator-limited: {reason}[/yellow]")
    if run["status"] != "completed" and run.get("status_reason"):
        console.print(f"[yellow]{run['status']}: {run['status_reason']}[/yellow]")


def _print_comparison(report: Report, console: Console) -> None:
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
    # compare_streaming: the second API's requests cost money too.
    streaming = report.get("streaming_comparison")
    compared = streaming["compared_models"] if streaming else {}
    models = [*report["models"].values(), *compared.values()]
    total = sum(priced["total_usd"] if (priced := m["cost"]) else 0.0 for m in models)
    budget = report["run"]["cost"].get("budget_usd")
    line = f"cost of this run: ${total:,.6f}"
    if budget is not None:
        line += f" (budget ${budget:g}, guard counted ${spent or 0:,.6f})"
    console.print(line)


def _print_thresholds(report: Report, console: Console) -> None:
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


def _print_verdict(report: Report, console: Console) -> None:
    """Quality next to speed and cost, each requirement met or missed, the Pareto front."""
    verdict = report.get("verdict")
    if not verdict or not verdict["models"]:
        return
    scored = any(m["quality_mean"] is not None for m in verdict["models"].values())
    if not verdict["requirements"] and not scored:
        return  # a plain load test: the side-by-side table above says it all
    table = Table(title="verdict per model", title_justify="left")
    table.add_column("model", no_wrap=True)
    for column in ("quality", "TTFT p50", "TTFT p95", "TTLT p50", "TTLT p95"):
        table.add_column(column if column == "quality" else f"{column} ms", justify="right")
    for column in ("out tok/s", "error rate", "$ / 1k emails", "verdict"):
        table.add_column(column, justify="right")
    for model, data in verdict["models"].items():
        quality, error_rate = data["quality_mean"], data["error_rate"]
        cost = data["cost_per_1k_emails_usd"]
        if not data["requirements"]:
            outcome = "-"
        elif data["meets_all"]:
            outcome = f"[green]all {data['met']} met[/green]"
        else:
            outcome = f"[red]{data['missed']} missed[/red]"
        table.add_row(
            model,
            "-" if quality is None else f"{quality:.3f}",
            _ms(data["ttft_p50_ms"]),
            _ms(data["ttft_p95_ms"]),
            _ms(data["ttlt_p50_ms"]),
            _ms(data["ttlt_p95_ms"]),
            _ms(data["output_tokens_per_s"]),
            "-" if error_rate is None else f"{error_rate:.2%}",
            "unpriced" if cost is None else f"{cost:,.4f}",
            outcome,
        )
    console.print(table)
    for model, data in verdict["models"].items():
        if not data["requirements"]:
            continue
        said = []
        for result in data["requirements"]:
            value = format_value(METRICS[result["metric"]].kind, result["measured"])
            mark = "[green]met[/green]" if result["passed"] else "[red]MISSED[/red]"
            said.append(f"{result['check']} {mark} ({value})")
        console.print(f"{model}: " + "; ".join(said))
    pareto = verdict["pareto"]
    if pareto["axes"]:
        console.print(
            f"Pareto front ({', '.join(pareto['axes'])}): {', '.join(pareto['front']) or 'none'}"
        )
    if verdict["requirements"]:
        meeting = verdict["meeting_all"]
        console.print(
            "meets every requirement: " + (", ".join(meeting) if meeting else "[red]no model[/red]")
        )
