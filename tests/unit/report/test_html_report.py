"""report.html's parts on their own: nested tables, long series binned for charts (a report
that cannot be rendered: tests/unit/run/test_outputs.py). A whole page from a real run:
tests/e2e/test_html_report.py."""

from __future__ import annotations

from typing import Any

from loadgen.report.html import charts as html_charts
from loadgen.report.html.tables import table


def test_tables_show_every_figure_of_nested_sections() -> None:
    html = str(table({"a": {"b": 1, "c": None}, "rows": [{"x": 1.5}, {"x": 2, "y": "z"}]}))
    assert "a · b" in html and "a · c" in html
    assert "<th>x</th><th>y</th>" in html
    assert "1.5" in html and "z" in html


def test_long_series_are_binned_for_charts_keeping_spikes() -> None:
    seconds = 1000
    series: dict[str, Any] = {
        "interval_s": 1,
        "start_s": 0,
        "sends": [10] * seconds,
        "completions": [10] * seconds,
        "errors": [0] * seconds,
        "output_tokens": [100] * seconds,
        "throttled": [0] * seconds,
        "lag_ms": {"p50": [1.0] * seconds, "p99": [2.0] * seconds, "max": [3.0] * seconds},
        "models": {"m": {"ttft_ms": {"p50": [100.0] * seconds, "p99": [150.0] * seconds}}},
    }
    series["errors"][777] = 9
    series["models"]["m"]["ttft_ms"]["p99"][123] = 5000.0
    thinned = html_charts.thin(series)
    assert len(thinned["sends"]) <= html_charts.MAX_POINTS
    assert thinned["interval_s"] * len(thinned["sends"]) >= seconds
    assert set(thinned["sends"]) == {10}  # a rate stays per second
    assert max(thinned["errors"]) == 9
    assert max(thinned["models"]["m"]["ttft_ms"]["p99"]) == 5000.0
    assert max(thinned["models"]["m"]["ttft_ms"]["p50"]) == 100.0
    assert html_charts.latency_over_time(series, "m").count("<path") < 400
