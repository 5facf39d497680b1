"""One row model for the console and compare.html: the same metrics, intervals and verdict
words in both; rates in percentage points; colour by significance and direction, never by
the sign of a change alone."""

from __future__ import annotations

import re

import numpy as np
from rich.console import Console

from loadgen.compare.display import change_row, comparison_view, print_comparison
from loadgen.compare.runs import CompareOptions, Comparison, Row, compare_reports
from loadgen.core.sample import ErrorClass, Sample
from loadgen.report.html.comparison import render_comparison
from tests.factories import make_report, make_sample

N = 400
E_NOTATION = re.compile(r"\d[eE][+-]?\d")


def _run(seed: int, ttft_ms: float, errors: int = 0) -> dict[str, object]:
    """N requests with a TTFT of `ttft_ms` (± 20 %), the first `errors` of them failed."""
    rng = np.random.default_rng(seed)
    samples: list[Sample] = []
    for i in range(N):
        start = i * 100_000
        ttft_us = round(ttft_ms * 1000 * rng.uniform(0.8, 1.2))
        failed = i < errors
        samples.append(
            make_sample(
                i,
                start_us=start,
                dispatch_us=start,
                send_us=start,
                first_token_us=None if failed else start + ttft_us,
                end_us=start + ttft_us + 200_000,
                itl_us=() if failed else (4_000,) * 49,
                output_tokens=None if failed else 50,
                error=ErrorClass.SERVER if failed else None,
            )
        )
    return make_report(samples, wall_s=N / 10)


def _console(comparison: Comparison) -> str:
    console = Console(width=220, record=True, color_system=None)
    print_comparison(comparison, console)
    return console.export_text()


def test_console_and_html_show_the_same_rows_in_the_same_words() -> None:
    base, new = _run(1, 200.0), _run(2, 260.0, errors=43)  # TTFT +30 %, errors 0 → 10.75 %
    comparison = compare_reports(base, new, CompareOptions())  # type: ignore[arg-type]
    view = comparison_view(comparison)
    printed = _console(comparison)
    page = render_comparison(base, new, view)  # type: ignore[arg-type]
    metrics = {row["metric"] for row in view["rows"]}
    assert {"TTFT p50", "TTLT p99", "error rate", "output tokens/s"} <= metrics
    for row in view["rows"]:
        for text in (row["metric"], row["change"], row["evidence"], row["verdict"]):
            assert text in printed, text
            assert text.replace("<", "&lt;") in page, text
    by_metric = {row["metric"]: row for row in view["rows"]}
    assert by_metric["error rate"]["change"] == "+10.75 pp"  # never +0.1075
    assert by_metric["error rate"]["new"] == "10.75%"
    assert by_metric["TTFT p50"]["verdict"] == "regression"
    assert view["summary"] in printed and view["summary"] in page
    assert not E_NOTATION.search(printed)


def test_colour_is_significance_and_direction_not_sign() -> None:
    base, slower, faster = _run(1, 200.0), _run(2, 260.0), _run(3, 150.0)
    worse = comparison_view(compare_reports(base, slower, CompareOptions()))  # type: ignore[arg-type]
    better = comparison_view(compare_reports(base, faster, CompareOptions()))  # type: ignore[arg-type]
    same = comparison_view(compare_reports(base, _run(4, 200.0), CompareOptions()))  # type: ignore[arg-type]
    ttft = {
        name: next(r for r in view["rows"] if r["metric"] == "TTFT p50")
        for name, view in (("worse", worse), ("better", better), ("same", same))
    }
    assert (ttft["worse"]["verdict"], ttft["worse"]["tone"]) == ("regression", "regression")
    assert (ttft["better"]["verdict"], ttft["better"]["tone"]) == ("improvement", "improvement")
    assert ttft["same"]["verdict"] == "no significant change"
    assert ttft["same"]["tone"] == "no-change"
    assert ttft["same"]["change"] != "0 ms"  # it did move, within the noise
    page = render_comparison(base, _run(4, 200.0), same)  # type: ignore[arg-type]
    cell = re.search(
        r'<td class="num (\w+)" data-label="change">' + re.escape(ttft["same"]["change"]), page
    )
    assert cell is not None and cell.group(1) == "quiet"
    assert 'class="num worse"' not in page  # nothing significant: nothing red


def test_each_unit_reads_as_people_write_it() -> None:
    rate = Row("m", "error rate", "rate", 0.0, 0.1064, change=0.1064, p_value=2e-9)
    rate.verdict = "regression"
    assert change_row(rate)["change"] == "+10.64 pp"
    assert change_row(rate)["evidence"] == "p < 0.001"
    latency = Row(
        "m", "TTFT p99", "ms", 1000.0, 1002.0, change=2.0, change_relative=0.002, ci=(-3.5, 7.25)
    )
    latency.verdict = "no significant change"
    row = change_row(latency)
    assert (row["base"], row["change"], row["evidence"]) == (
        "1,000.0 ms",
        "+2 ms (+0.2%)",
        "[-3.5, +7.25] ms",
    )
    assert row["tone"] == "no-change"
    cost = Row("m", "cost per 1k", "USD", 0.0123, 0.0123 - 0.0000123, change=-0.0000123)
    cost.verdict = "not tested"
    cost.reason = "not priced"
    row = change_row(cost)
    assert row["change"] == "-$0.0000123"
    assert row["verdict"] == "not tested (not priced)" and row["tone"] == "untested"


def test_an_80_column_terminal_gets_every_figure_whole() -> None:
    base, new = _run(1, 200.0), _run(2, 260.0, errors=43)
    comparison = compare_reports(base, new, CompareOptions())  # type: ignore[arg-type]
    console = Console(width=80, record=True, color_system=None)
    print_comparison(comparison, console)
    printed = console.export_text()
    assert "…" not in printed
    assert all(len(line) <= 80 for line in printed.splitlines())
    for row in comparison_view(comparison)["rows"]:
        assert row["change"] in printed and row["evidence"] in printed


def _reasoning_run(seed: int, reasoning_ms: float, guardrail_stops: int) -> dict[str, object]:
    """N requests that reason for `reasoning_ms` (± 20 %) before their answer, 200 ms after
    the send; the first `guardrail_stops` of them ended by a guardrail."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(N):
        start = i * 100_000
        reasoning_us = round(reasoning_ms * 1000 * rng.uniform(0.8, 1.2))
        first = start + 150 + 200_000
        samples.append(
            make_sample(
                i,
                start_us=start,
                first_token_us=first,
                first_reasoning_us=first,
                first_answer_us=first + reasoning_us,
                end_us=first + reasoning_us + 200_000,
                reasoning_tokens=40,
                stop_reason="guardrail_intervened" if i < guardrail_stops else "end_turn",
            )
        )
    return make_report(samples)


def test_reasoning_runs_compare_time_to_first_answer_and_flagged_outcomes() -> None:
    # TTFT is the first reasoning token on both sides; only the answer's wait grew.
    base = _reasoning_run(1, reasoning_ms=300, guardrail_stops=4)
    new = _reasoning_run(2, reasoning_ms=600, guardrail_stops=60)
    rows = {row.metric: row for row in compare_reports(base, new, CompareOptions()).rows}
    assert rows["TTFT p50"].verdict != "regression"
    assert rows["TTFA p50"].verdict == "regression"
    assert rows["reasoning p50"].new > rows["reasoning p50"].base
    assert rows["guardrail rate"].verdict == "regression"
    # Plain runs get none of these rows: there is nothing to say about them.
    plain = compare_reports(_run(1, 200.0), _run(2, 200.0), CompareOptions()).rows
    assert not {"TTFA p50", "reasoning p50", "guardrail rate"} & {row.metric for row in plain}
