"""report.html opens with the trust line and, for an emulated run, its banner; costs and
verdicts of an emulated run say synthetic; drops are drawn as drops, never as errors. The
page in headless Chromium at three widths: tests/e2e/test_trust_and_terminals.py."""

from __future__ import annotations

from typing import Any

from loadgen.config.thresholds import parse_check
from loadgen.core.sample import ErrorClass, Sample
from loadgen.report.html import charts as html_charts
from loadgen.report.html.page import render
from loadgen.report.verdict import build_verdict
from tests.factories import make_report, make_sample

PRICE = {
    "catalogue_id": "m",
    "region": "us-east-1",
    "region_fallback": False,
    "usd_per_1m_tokens": {"input": 1.0, "output": 2.0, "cache_read": 0.0, "cache_write": 0.0},
    "source": "test",
    "as_of": "2025-01-01",
}


def _target(emulated: bool) -> dict[str, Any]:
    return {
        "provider": "bedrock",
        "api": "bedrock-converse-stream",
        "region": "us-east-1",
        "endpoint_url": None,
        "emulated": emulated,
    }


def _dropping_report(emulated: bool) -> Any:
    samples = [make_sample(i, cost_usd=0.001) for i in range(1, 21)]
    samples.append(make_sample(21, error=ErrorClass.SERVER, first_token_us=None))
    for i in range(22, 52):  # dropped, in the run's second second
        start = 1_000_000 + i * 1000
        samples.append(Sample(i, "m", "r", False, start, start, error=ErrorClass.DROPPED))
    report = make_report(
        samples,
        load={"max_in_flight": 3},
        target=_target(emulated),
        cost={"budget_usd": None, "spent_usd": None, "project_rps": None, "prices": {"m": PRICE}},
    )
    report["verdict"] = build_verdict([parse_check("ttft_p95 <= 1s")], report["models"])
    return report


def test_the_page_opens_with_the_trust_line_and_the_emulated_banner() -> None:
    page = render(_dropping_report(emulated=True))
    trust_at, banner_at, nav_at = (
        page.index('id="trust"'),
        page.index('id="emulated"'),
        page.index("<nav>"),
    )
    assert trust_at < banner_at < nav_at
    assert "trust: NOT TRUSTWORTHY" in page
    assert "30 of 51 requests dropped (in-flight cap 3)" in page
    assert '<span class="badge fail">not trustworthy</span>' in page  # beside the status
    assert '<span class="badge fail">not trustworthy</span> (synthetic)' in page  # verdict
    assert "meets all" not in page
    assert "$ / 1k answered (synthetic)" in page and "Cost (USD, synthetic)" in page


def test_a_clean_real_run_has_a_green_line_and_no_synthetic_mark() -> None:
    report = make_report(
        [make_sample(i) for i in range(1, 11)],
        load={"max_in_flight": 3},
        target=_target(False),
    )
    page = render(report)
    assert '<div class="trust good" id="trust">' in page
    assert 'id="emulated"' not in page and "synthetic" not in page


def test_drops_are_drawn_apart_from_errors_in_their_own_colour() -> None:
    series = _dropping_report(emulated=False)["timeseries"]
    assert sum(series["dropped"]) == 30
    axes = html_charts.error_timeline_figure(series).axes[0]
    drawn = {bars.get_label(): sum(bar.get_height() for bar in bars) for bars in axes.containers}
    assert drawn == {"throttled": 0, "other errors": 1, "dropped": 30}
    (dropped,) = [bars for bars in axes.containers if bars.get_label() == "dropped"]
    assert (
        dropped.patches[0].get_facecolor()[:3] != axes.containers[1].patches[0].get_facecolor()[:3]
    )
    # A model's own errors per second (its latency chart's red bars) hold no drops either.
    assert sum(series["models"]["m"]["errors"]) == 1
