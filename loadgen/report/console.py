"""The console summary, read from the report: whether to trust it first, then the tables.

Every summary opens with the trust line (loadgen/report/trust.py) and, for an emulated run, a
banner: a run that dropped most of its requests or ran against the emulator must not look like
a clean measurement. The tables are laid out for the console's width (loadgen/report/fit.py):
split by columns, with short model names and a legend when the ids do not fit, so no figure is
ever cut.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Console
from rich.text import Text

from loadgen.config.thresholds import METRICS, format_value
from loadgen.cost.run_spend import spend_line
from loadgen.report.answer_text import answer_lines, flagged_text, turn_rows
from loadgen.report.fit import Column, fits, fitted_tables, legend, short_names
from loadgen.report.quota_text import quota_lines
from loadgen.report.replay_text import print_replay
from loadgen.report.schema import REPORTED_ERRORS, ModelSection, Report, TrustAssessment
from loadgen.report.synthetic_tokens import console_lines
from loadgen.report.trust import (
    EMULATED_TEXT,
    SYNTHETIC,
    assess_trust,
    trust_level,
    trust_line,
)

# Colours a reader learns once: the same in the live view and report.html.
THROTTLED_STYLE = "yellow"
ERRORS_STYLE = "red"
DROPPED_STYLE = "magenta"
TRUST_STYLES = {"bad": "bold red", "warn": "yellow", "good": "green"}

TPOT_DEFINITION = (
    "ITL: gap between content deltas (a delta may carry several tokens); "
    "TPOT: (TTLT - TTFT) / (output tokens - 1), time per output token after the first"
)

MODEL = Column("model", justify="left")
SUMMARY_COLUMNS = [
    Column("sent"),
    Column("ok"),
    Column("throt-\ntled"),
    Column("errors"),
    Column("dropped"),
    Column("TTFT\np50 ms"),
    Column("TTFT\np99 ms"),
    Column("TTFT p99\nresp ms"),
    Column("TTLT\np50 ms"),
    Column("TTLT\np99 ms"),
    Column("ITL\np50 ms"),
    Column("TPOT\np50 ms"),
    Column("out\ntok/s"),
]


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


def _count(value: int, style: str) -> str:
    return f"[{style}]{value:,}[/{style}]" if value else "0"


def print_summary(report: Report, console: Console) -> None:
    run = report["run"]
    # A report saved before schema_version 3 has no trust section: assessed as it is read.
    trust = report.get("trust") or assess_trust(report)
    print_trust(trust, console)
    if trust["emulated"]:
        print_emulated_banner(console)
    names = _display_names(report, console.width)
    console.print(Text(f"{run['scenario']} — {run['status']}", style="bold"))
    _print_tables(
        console,
        None,
        [MODEL],
        SUMMARY_COLUMNS,
        [_summary_row(names[m], d) for m, d in _models(report)],
    )
    console.print(Text(TPOT_DEFINITION, style="dim"))
    if (names_legend := legend(names)) is not None:
        console.print(Text(names_legend, style="dim"))
    _print_server_timings(report, names, console)
    _print_answers(report, names, console)
    _print_streaming_comparison(report, names, console)
    _print_comparison(report, names, trust, console)
    _print_generator(report, console)
    if "quota" in report:  # absent before schema_version 3
        for line in quota_lines(report["quota"], names):
            console.print(Text(line))
    if "dataset" in report:  # a synthetic dataset: requested against actual tokens
        for line in console_lines(report["dataset"]):
            console.print(Text(line))
    if "replay" in report:  # a replay: the log beside what was sent
        print_replay(report["replay"], console)
    _print_thresholds(report, names, console)
    _print_verdict(report, names, trust, console)
    if run["status"] != "completed" and run.get("status_reason"):
        console.print(Text(f"{run['status']}: {run['status_reason']}", style="yellow"))


def print_trust(trust: TrustAssessment, console: Console) -> None:
    """The first line of every summary: whether the figures can be trusted, and why not."""
    style = TRUST_STYLES[trust_level(trust)]
    console.print(Text("trust: ", style="bold") + Text(trust_line(trust), style=style))


def print_emulated_banner(console: Console) -> None:
    console.print(Text(" EMULATED ", style="bold black on yellow") + Text(f" {EMULATED_TEXT}"))


def _models(report: Report) -> list[tuple[str, ModelSection]]:
    return list(report["models"].items())


def _display_names(report: Report, width: int) -> dict[str, str]:
    """Full model ids when the summary table fits the width with them, else short names."""
    models = list(report["models"])
    full = {model: model for model in models}
    rows = [_summary_row(model, data) for model, data in _models(report)]
    if fits([MODEL], SUMMARY_COLUMNS, rows, width):
        return full
    streaming = report.get("streaming_comparison")
    compared = list(streaming["compared_models"]) if streaming else []
    return short_names([*models, *(m for m in compared if m not in full)])


def _print_tables(
    console: Console,
    title: str | None,
    keys: Sequence[Column],
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
) -> None:
    for table in fitted_tables(title, keys, columns, rows, console.width):
        console.print(table)


def _summary_row(name: str, data: ModelSection) -> list[str]:
    requests, latency = data["requests"], data["latency_ms"]
    errors = sum(requests["errors"][name] for name in REPORTED_ERRORS if name != "throttled")
    return [
        name,
        f"{requests['sent']:,}",
        f"{requests['ok']:,}",
        _count(requests["errors"]["throttled"], THROTTLED_STYLE),
        _count(errors, ERRORS_STYLE),
        _count(requests["dropped"], DROPPED_STYLE),
        _ms(latency["ttft"]["service"]["p50"]),
        _ms(latency["ttft"]["service"]["p99"]),
        _ms(latency["ttft"]["response"]["p99"]),
        _ms(latency["ttlt"]["service"]["p50"]),
        _ms(latency["ttlt"]["service"]["p99"]),
        _ms(latency["itl"]["p50"]),
        _ms(latency["tpot"]["p50"]),
        _ms(data["throughput"]["output_tokens_per_s"]),
    ]


def _print_server_timings(report: Report, names: Mapping[str, str], console: Console) -> None:
    """Bedrock's own latency beside the client's E2E, and the difference (client overhead)."""
    models = {
        model: data["latency_ms"]
        for model, data in report["models"].items()
        # .get: a report saved before the server's timings were measured has none.
        if (server := data["latency_ms"].get("server_latency")) and server["count"]
    }
    if not models:
        return
    columns = [
        Column("TTLT\np50 ms"),
        Column("server\np50 ms"),
        Column("server\np99 ms"),
        Column("first byte\np50 ms"),
        Column("overhead\np50 ms"),
        Column("overhead\np99 ms"),
    ]
    rows = [
        [
            names.get(model, model),
            _ms(latency["ttlt"]["service"]["p50"]),
            _ms(latency["server_latency"]["p50"]),
            _ms(latency["server_latency"]["p99"]),
            _ms(latency["server_first_byte"]["p50"]),
            _ms(latency["client_overhead"]["p50"]),
            _ms(latency["client_overhead"]["p99"]),
        ]
        for model, latency in models.items()
    ]
    _print_tables(console, "server timings (the server's own figures)", [MODEL], columns, rows)


def _print_answers(report: Report, names: Mapping[str, str], console: Console) -> None:
    """How the answers came, per model: flagged outcomes first (in the throttle colour: read
    the latency figures with them in mind), then stop reasons, cache, reasoning, tool use,
    tiers, and a table per turn for conversations. Nothing for a run without any of it."""
    for model, data in _models(report):
        name = names.get(model, model)
        if (flagged := flagged_text(data)) is not None:
            console.print(Text(f"flagged: {name}: {flagged}", style=THROTTLED_STYLE))
        for label, text in answer_lines(data):
            console.print(Text(f"{label}: {name}: {text}"))
    rows = [[names.get(m, m), *row] for m, data in _models(report) for row in turn_rows(data)]
    if rows:
        columns = [
            Column("answers"),
            Column("TTFT\np50 ms"),
            Column("TTFT\np99 ms"),
            Column("input tok\nmean"),
        ]
        _print_tables(console, "conversation turns", [MODEL, Column("turn")], columns, rows)


def _print_streaming_comparison(report: Report, names: Mapping[str, str], console: Console) -> None:
    section = report.get("streaming_comparison")
    if not section:
        return
    rows = []
    for row in section["models"]:
        for streamed, api, figures in (
            (True, section["streaming_api"], row["streaming"]),
            (False, section["non_streaming_api"], row["non_streaming"]),
        ):
            rows.append(
                [
                    names.get(row["model"], row["model"]),
                    api,
                    f"{figures['ok']}/{figures['sent']}",
                    _ms(figures["ttft_p50_ms"]) if streamed else "n/a",
                    _ms(figures["ttlt_p50_ms"]),
                    _ms(figures["ttlt_p99_ms"]),
                    _ms(figures["server_latency_p50_ms"]),
                ]
            )
    columns = [
        Column("ok"),
        Column("TTFT\np50 ms"),
        Column("TTLT\np50 ms"),
        Column("TTLT\np99 ms"),
        Column("server\np50 ms"),
    ]
    title = f"streaming ({section['streaming_api']}) vs not ({section['non_streaming_api']})"
    _print_tables(console, title, [MODEL, Column("api", justify="left")], columns, rows)


def _cost_header(text: str, emulated: bool) -> str:
    return f"{text}\n({SYNTHETIC})" if emulated else text


def _print_comparison(
    report: Report, names: Mapping[str, str], trust: TrustAssessment, console: Console
) -> None:
    rows = report.get("comparison") or []
    if not rows:
        return
    emulated = trust["emulated"]
    columns = [
        Column(_cost_header("$ / 1k\nanswered", emulated)),
        Column(_cost_header("$ / 1k\nsent", emulated)),
        Column("TTFT\np50 ms"),
        Column("TTFT\np95 ms"),
        Column("TTLT\np95 ms"),
        Column("out\ntok/s"),
        Column("error\nrate"),
    ]
    cells = []
    for row in rows:
        # .get: a report from before schema_version 3 names neither (cost_per_1k_requests_usd).
        answered, sent = row.get("cost_per_1k_answered_usd"), row.get("cost_per_1k_sent_usd")
        cells.append(
            [
                names.get(row["model"], row["model"]),
                "unpriced" if answered is None else f"{answered:,.4f}",
                "unpriced" if sent is None else f"{sent:,.4f}",
                _ms(row["ttft_p50_ms"]),
                _ms(row["ttft_p95_ms"]),
                _ms(row["ttlt_p95_ms"]),
                _ms(row["output_tokens_per_s"]),
                _rate(row["error_rate"]),
            ]
        )
    _print_tables(console, "models side by side", [MODEL], columns, cells)
    run_cost = report["run"]["cost"]
    spent, budget = run_cost.get("spent_usd"), run_cost.get("budget_usd")
    line = spend_line(run_cost.get("spend"))  # absent before schema_version 3
    if emulated:
        line += f" ({SYNTHETIC}: real prices on emulated token counts)"
    if budget is not None:
        line += f" (budget ${budget:g}, guard counted ${spent or 0:,.6f})"
    console.print(Text(line))


def _print_generator(report: Report, console: Console) -> None:
    run = report["run"]
    generator = run["generator"]
    cpu = f"CPU {generator['cpu_percent']:.0f} %"
    if warmup := run["warmup_requests"]:  # sent and counted, but in no figure above
        console.print(
            Text(
                f"warmup: {warmup:,} requests intended in the first {run['load']['warmup']:g} s "
                "were sent, and are in samples.jsonl but not in these figures (load.warmup)"
            )
        )
    if run["load"].get("loop") == "closed":
        line = (
            f"generator: closed loop, {run['load']['concurrency']} users, achieved "
            f"{generator['achieved_rps'] or 0:.2f} req/s (an outcome, not a target; schedule "
            f"lag does not apply), {cpu}"
        )
        console.print(Text(line))
        return
    scheduled = generator["scheduled_rps"]
    text = Text(
        f"generator: target {generator['target_rps']:g} req/s, scheduled "
        f"{'-' if scheduled is None else f'{scheduled:.2f}'}, achieved "
        f"{generator['achieved_rps'] or 0:.2f} req/s, lag p99 "
        f"{_ms(generator['lag_ms']['p99'])} ms, "
    )
    dropped = generator["dropped"]
    text.append(f"dropped {dropped:,}", style=DROPPED_STYLE if dropped else "")
    text.append(f", {cpu}")
    console.print(text)


def _print_thresholds(report: Report, names: Mapping[str, str], console: Console) -> None:
    section = report.get("thresholds")
    if not section:
        return
    rows = []
    for result in section["results"]:
        kind = METRICS[result["metric"]].kind
        verdict = "[green]pass[/green]" if result["passed"] else "[red]FAIL[/red]"
        model = result["model"]
        rows.append(
            [
                result["check"],
                names.get(model, model),
                format_value(kind, result["measured"]),
                verdict,
            ]
        )
    keys = [Column("check", justify="left"), MODEL]
    _print_tables(console, "thresholds", keys, [Column("measured"), Column("result")], rows)
    if not section["passed"]:
        console.print(f"[red]{section['failed']} threshold(s) failed: exit code 99[/red]")


def _outcome(met: int, missed: int, has_requirements: bool, trust: TrustAssessment) -> str:
    if not has_requirements:
        return "-"
    if not trust["trustworthy"]:
        # Requirements judged on a load that was never offered are not met, nor missed.
        return "[bold red]not trustworthy[/bold red]"
    synthetic = f" ({SYNTHETIC})" if trust["emulated"] else ""
    if not missed:
        return f"[green]all {met} met[/green]{synthetic}"
    return f"[red]{missed} missed[/red]{synthetic}"


def _print_verdict(
    report: Report, names: Mapping[str, str], trust: TrustAssessment, console: Console
) -> None:
    """Quality next to speed and cost, each requirement met or missed, the Pareto front; all
    of it void when the run is not trustworthy, and synthetic when it was emulated."""
    verdict = report.get("verdict")
    if not verdict or not verdict["models"]:
        return
    scored = any(m["quality_mean"] is not None for m in verdict["models"].values())
    if not verdict["requirements"] and not scored:
        return  # a plain load test: the side-by-side table above says it all
    emulated = trust["emulated"]
    columns = [
        Column("quality"),
        Column("TTFT\np50 ms"),
        Column("TTFT\np95 ms"),
        Column("TTLT\np50 ms"),
        Column("TTLT\np95 ms"),
        Column("out\ntok/s"),
        Column("error\nrate"),
        Column(_cost_header("$ / 1k\nemails", emulated)),
        Column("verdict"),
    ]
    rows = []
    for model, data in verdict["models"].items():
        quality, cost = data["quality_mean"], data.get("cost_per_1k_answered_usd")
        rows.append(
            [
                names.get(model, model),
                "-" if quality is None else f"{quality:.3f}",
                _ms(data["ttft_p50_ms"]),
                _ms(data["ttft_p95_ms"]),
                _ms(data["ttlt_p50_ms"]),
                _ms(data["ttlt_p95_ms"]),
                _ms(data["output_tokens_per_s"]),
                _rate(data["error_rate"]),
                "unpriced" if cost is None else f"{cost:,.4f}",
                _outcome(data["met"], data["missed"], bool(data["requirements"]), trust),
            ]
        )
    _print_tables(console, "verdict per model", [MODEL], columns, rows)
    for model, data in verdict["models"].items():
        if not data["requirements"]:
            continue
        said = []
        for result in data["requirements"]:
            value = format_value(METRICS[result["metric"]].kind, result["measured"])
            mark = "[green]met[/green]" if result["passed"] else "[red]MISSED[/red]"
            said.append(f"{result['check']} {mark} ({value})")
        console.print(f"{names.get(model, model)}: " + "; ".join(said))
    synthetic = f" ({SYNTHETIC})" if emulated else ""
    pareto = verdict["pareto"]
    if pareto["axes"]:
        front = ", ".join(names.get(m, m) for m in pareto["front"]) or "none"
        console.print(Text(f"Pareto front ({', '.join(pareto['axes'])}){synthetic}: {front}"))
    if not verdict["requirements"]:
        return
    if not trust["trustworthy"]:
        console.print(
            "[bold red]verdict: not trustworthy[/bold red] (see the trust line at the top): "
            "the requirements were judged on figures that do not describe the load asked for"
        )
        return
    meeting = ", ".join(names.get(m, m) for m in verdict["meeting_all"])
    console.print(
        f"meets every requirement{synthetic}: " + (meeting if meeting else "[red]no model[/red]")
    )
