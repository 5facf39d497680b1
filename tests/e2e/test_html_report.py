"""report.html from a real emulated run, opened in headless Chromium with the network off. Its
parts on their own (tables, charts, a report that cannot render): tests/unit/report/."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadgen.compare.display import comparison_view
from loadgen.compare.runs import CompareOptions, compare_reports
from loadgen.report.html import charts as html_charts
from loadgen.report.html.comparison import render_comparison
from loadgen.report.html.page import render
from tests.helpers import REPO, loadgen, needs_chromium, offline_chromium, offline_page

MAX_BYTES = 1_500_000  # small enough to attach to an email
MODELS = ["us.amazon.nova-lite-v1:0", "us.amazon.nova-pro-v1:0"]


@pytest.fixture(scope="module")
def html_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """A short emulated run of two models with throttles and server errors injected, with the
    live progress forced on (stdout is a pipe here)."""
    folder = tmp_path_factory.mktemp("html")
    data = yaml.safe_load((REPO / "scenarios" / "email_summary.yaml").read_text())
    data["dataset"]["path"] = str(REPO / "scenarios" / "data" / "emails.jsonl")
    data["models"] = MODELS
    fast = {"ttft_ms": 120, "ttft_jitter_ms": 30, "itl_ms": 8, "output_tokens": 40}
    data["emulator"] = {
        "seed": 3,
        "profiles": {
            "amazon.nova-lite-v1:0": {**fast, "faults": {"throttle": 0.15, "server_error": 0.05}},
            "amazon.nova-pro-v1:0": {**fast, "ttft_ms": 200},
        },
    }
    scenario = folder / "scenario.yaml"
    scenario.write_text(yaml.safe_dump(data))
    out = folder / "out"
    completed = loadgen(
        "run",
        str(scenario),
        "--rps",
        "12",
        "--duration",
        "4s",
        "--seed",
        "5",
        "--emulate",
        "--skip-preflight",
        "--out",
        str(out),
        env={"LOADGEN_PROGRESS": "1", "COLUMNS": "140"},
    )
    assert completed.returncode == 0, completed.stderr
    return completed, out


def test_a_run_writes_a_small_self_contained_report_html(html_run: tuple[Any, Path]) -> None:
    completed, out = html_run
    page = (out / "report.html").read_text()
    size = (out / "report.html").stat().st_size
    print(f"report.html: {size:,} bytes")
    assert size < MAX_BYTES
    assert f"report: {out / 'report.html'}" in completed.stdout.replace("\n", "")
    # Nothing to fetch: no scripts, no stylesheets or images by URL, no fonts.
    assert "<script" not in page
    assert "<link" not in page
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", page)
    assert "@font-face" not in page
    assert not re.search(r"url\((?!#)", page)  # only references inside the page
    report = json.loads((out / "report.json").read_text())
    errors = sum(report["timeseries"]["errors"])
    assert errors > 0, "the injected faults should show in the report"
    for model in MODELS:
        assert model in page
    # Overlay, throughput, errors, lag, and per model: spectrum, CDFs, latency over time.
    assert page.count('<svg class="chart"') == 4 + 3 * len(MODELS)


def test_live_progress_shows_the_run_as_it_goes(html_run: tuple[Any, Path]) -> None:
    completed, _ = html_run
    out = completed.stdout
    assert "in flight" in out
    assert "TTFT p50 / p99 ms (last 10 s)" in out
    assert re.search(r"rate: target 12 req/s, achieved \d+\.\d\d req/s", out)
    assert "throttled" in out  # errors by class, as they happen


def test_quiet_and_no_html_write_only_the_json(tmp_path: Path) -> None:
    # The study's quickest model alone: the run waits for its answers, not for the slowest's.
    completed = loadgen(
        "run",
        "scenarios/email_summary.yaml",
        "--model",
        "us.amazon.nova-lite-v1:0",
        "--requests",
        "3",
        "--rps",
        "20",
        "--emulate",
        "--skip-preflight",
        "--quiet",
        "--no-html",
        "--out",
        str(tmp_path),
        env={"LOADGEN_PROGRESS": "1"},
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == ""
    assert (tmp_path / "report.json").exists()
    assert not (tmp_path / "report.html").exists()


@needs_chromium
def test_report_html_renders_in_headless_chromium_offline(
    html_run: tuple[Any, Path], tmp_path: Path
) -> None:
    _, out = html_run
    report = json.loads((out / "report.json").read_text())
    comparison = tmp_path / "compare.html"
    view = comparison_view(compare_reports(report, report, CompareOptions()))
    comparison.write_text(render_comparison(report, report, view))
    requested: list[str] = []
    problems: list[str] = []
    with offline_chromium() as browser, offline_page(browser, 1280) as page:
        page.context.route(
            re.compile(r"^(?!file:).*"),
            lambda route: (requested.append(route.request.url), route.abort()),
        )
        page.on(
            "console",
            lambda message: (
                problems.append(message.text) if message.type in ("error", "warning") else None
            ),
        )
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto((out / "report.html").as_uri(), wait_until="load")
        heights = page.eval_on_selector_all(
            "svg.chart", "charts => charts.map(c => c.getBoundingClientRect().height)"
        )
        lines = page.eval_on_selector_all("svg.chart path", "paths => paths.length")
        screenshot = tmp_path / "report.png"
        page.screenshot(path=str(screenshot), full_page=True)
        page.goto(comparison.as_uri(), wait_until="load")
        comparison_charts = page.eval_on_selector_all("svg.chart", "charts => charts.length")
    print(f"screenshot of report.html: {screenshot}")
    keep = out.parent / "report.png"
    shutil.copy(screenshot, keep)
    assert problems == []
    assert requested == []
    assert len(heights) == 4 + 3 * len(MODELS)
    assert all(height > 150 for height in heights), heights
    assert lines > 200
    assert screenshot.stat().st_size > 50_000
    assert comparison_charts == 2 * len(MODELS)


def test_the_spectrum_passes_through_hdr_percentiles(html_run: tuple[Any, Path]) -> None:
    _, out = html_run
    report = json.loads((out / "report.json").read_text())
    for data in report["models"].values():
        histogram = html_charts.decode(data["hdr"]["ttft_service"])
        assert histogram is not None
        xs, ys = html_charts.spectrum(histogram, scale=1)  # in µs, exactly as recorded
        for x, percentile in ((2.0, 50.0), (10.0, 90.0), (100.0, 99.0), (1000.0, 99.9)):
            assert ys[xs.index(x)] == histogram.get_value_at_percentile(percentile)
        values, fractions = html_charts.cdf(histogram)
        assert values == sorted(values) and fractions[-1] == 1.0


def test_sections_from_other_commands_render_when_present(html_run: tuple[Any, Path]) -> None:
    _, out = html_run
    report = json.loads((out / "report.json").read_text())
    for key in ("verdict", "quality", "thresholds", "sweep", "streaming_comparison"):
        report.pop(key, None)
    plain = render(report)
    assert "Verdict" not in plain and "Sweep" not in plain
    check = {"check": "ttft_p95 <= 1s", "unit": "ms", "measured": 812.5, "passed": True}
    report["verdict"] = {
        "requirements": ["ttft_p95 <= 1s"],
        "models": {MODELS[0]: {"quality_mean": 0.81, "meets_all": True, "requirements": [check]}},
        "meeting_all": [MODELS[0]],
        "pareto": {"axes": ["cost_per_1k", "quality_mean"], "front": [MODELS[0]]},
    }
    report["streaming_comparison"] = {
        "streaming_api": "bedrock-converse-stream",
        "non_streaming_api": "bedrock-converse",
        "models": [
            {
                "model": MODELS[0],
                "streaming": {"ttlt_p50_ms": 400.0},
                "non_streaming": {"ttlt_p50_ms": 441.25},
                "ttlt_p50_difference_ms": 41.25,
            }
        ],
        "compared_models": {MODELS[0]: {"hdr": {"ttft_service": "HISTFAAAA"}}},
    }
    report["quality"] = {
        MODELS[0]: {"mean": 0.81, "p10": 0.62},
        MODELS[1]: {"mean": 0.9, "p10": 0.7},
    }
    report["sweep"] = {
        "models": {
            MODELS[0]: [
                {"rate": r, "achieved_rps": r * 0.99, "ttft_p95_ms": 300 + r} for r in (1, 2, 5)
            ]
        }
    }
    page = render(report)
    assert "Verdict" in page and "✓ 812.5 ms" in page and "meets all" in page
    assert "Streaming vs non-streaming" in page and "441.2" in page
    assert "HISTFAAAA" not in page  # HDR encodings stay out of the tables
    assert "Quality" in page and "0.62" in page
    assert page.count('<svg class="chart"') == plain.count('<svg class="chart"') + 2


def test_a_run_that_measured_nothing_still_renders(html_run: tuple[Any, Path]) -> None:
    _, out = html_run
    report = json.loads((out / "report.json").read_text())
    report["run"]["status"] = "interrupted"
    report["run"]["status_reason"] = "stopped by SIGINT"
    for data in report["models"].values():
        data["hdr"] = {}
    report["timeseries"] = {
        "interval_s": 1,
        "start_s": 0,
        "sends": [],
        "completions": [],
        "errors": [],
        "output_tokens": [],
        "throttled": [],
        "lag_ms": {"p50": [], "p99": [], "max": []},
        "models": {},
    }
    page = render(report)
    assert "interrupted: stopped by SIGINT" in page
    assert "nothing measured" in page
