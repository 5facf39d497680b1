"""The console summary at 80, 100 and 200 columns: trust first, every column and figure whole."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from typing import Any

import pytest
from rich.console import Console

from loadgen.config.thresholds import parse_check
from loadgen.core.sample import ErrorClass, Sample
from loadgen.report.console import SUMMARY_COLUMNS, TPOT_DEFINITION, print_summary
from loadgen.report.fit import short_name, short_names
from loadgen.report.verdict import build_verdict
from tests.factories import make_report, make_sample

MODELS = [
    "us.amazon.nova-lite-v1:0",
    "us.amazon.nova-pro-v1:0",
    "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
]
REQUIREMENTS = ["ttft_p95 <= 1s", "ttlt_p95 <= 6s"]


def _samples() -> list[Sample]:
    samples = []
    for i in range(1, 301):
        model = MODELS[i % 3]
        # Slow enough that TTLT runs to five figures of ms, with the server's own timings.
        sample = make_sample(i, model=model, end_us=i * 1000 + 12_345_678, server_latency_ms=900)
        if i % 17 == 0:
            sample = replace(sample, error=ErrorClass.THROTTLED, first_token_us=None)
        samples.append(sample)
    for i in range(301, 341):  # dropped at the in-flight cap
        start = i * 1000
        samples.append(Sample(i, MODELS[i % 3], "r", False, start, start, error=ErrorClass.DROPPED))
    return samples


def _report(emulated: bool) -> Any:
    report = make_report(
        _samples(), load={"max_in_flight": 3}, target={"emulated": emulated}, target_rps=8.0
    )
    checks = [parse_check(text) for text in REQUIREMENTS]
    report["verdict"] = build_verdict(checks, report["models"])
    return report


def _flat(text: str) -> str:
    """As one line: rich wraps long lines at the width."""
    return " ".join(text.split())


def _printed(report: Any, width: int) -> str:
    screen = io.StringIO()
    print_summary(report, Console(file=screen, width=width, color_system=None))
    return screen.getvalue()


@pytest.mark.parametrize("width", [80, 100, 200])
def test_every_column_and_figure_is_whole_at_any_width(width: int) -> None:
    report = _report(emulated=True)
    text = _printed(report, width)
    lines = text.splitlines()
    assert "…" not in text  # rich cuts a cell that does not fit with an ellipsis
    assert max(len(line) for line in lines) <= width
    for column in SUMMARY_COLUMNS:
        for part in column.header.split("\n"):
            assert part in text, (width, part)
    names = {m: m for m in MODELS} if width >= 200 else short_names(MODELS)
    for model, data in report["models"].items():
        latency = data["latency_ms"]
        figures = [
            latency["ttft"]["service"]["p50"],
            latency["ttlt"]["service"]["p99"],
            latency["itl"]["p50"],
            latency["tpot"]["p50"],
        ]
        row = next(line for line in lines if line.startswith(names[model] + " "))
        for figure in figures:
            assert f"{figure:,.1f}" in text, (width, model, figure)
        assert re.search(rf"\b{data['requests']['sent']}\b", row), row
    if width < 200:  # the legend maps each short name back
        assert "models: " in text
        for model, short in names.items():
            assert f"{short} = {model}" in _flat(text)


def test_trust_comes_first_then_the_banner_and_the_verdict_is_void() -> None:
    text = _printed(_report(emulated=True), 100)
    lines = text.splitlines()
    assert lines[0].startswith("trust: NOT TRUSTWORTHY: 40 of 340 requests dropped")
    assert " EMULATED " in lines[2] or " EMULATED " in lines[1]
    verdicts = text.split("verdict per model")[1]
    assert verdicts.count("not trustworthy") >= len(MODELS)
    assert "met[" not in verdicts and "all 2 met" not in verdicts
    assert "meets every requirement" not in text
    assert "(synthetic)" in text


def test_a_clean_real_run_has_a_green_trust_line_and_no_banner() -> None:
    clean = [make_sample(i, model=MODELS[0]) for i in range(1, 30)]
    report = make_report(clean, load={"max_in_flight": 3}, target={"emulated": False})
    text = _printed(report, 80)
    assert text.startswith("trust: figures trustworthy: generator kept up, nothing dropped")
    assert "EMULATED" not in text and "synthetic" not in text


def test_tpot_beside_itl_is_the_documented_figure() -> None:
    """TPOT = (TTLT - TTFT) / (output tokens - 1): make_sample's 0.98 s of decoding over 49
    gaps is 20 ms per token."""
    report = make_report([make_sample(i, model="m") for i in range(1, 30)])
    text = _printed(report, 200)
    row = next(line for line in text.splitlines() if line.startswith("m "))
    assert report["models"]["m"]["latency_ms"]["tpot"]["p50"] == pytest.approx(20.0, rel=1e-3)
    assert row.split()[-2] == "20.0"  # TPOT p50, before out tok/s
    assert _flat(TPOT_DEFINITION) in _flat(text)


@pytest.mark.parametrize(
    ("model", "short"),
    [
        ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "claude-3-7-sonnet"),
        ("amazon.nova-pro-v1:0", "nova-pro"),
        ("gpt-4o-mini", "gpt-4o-mini"),
        ("gpt-3.5-turbo", "gpt-3.5-turbo"),
    ],
)
def test_short_names_keep_what_tells_models_apart(model: str, short: str) -> None:
    assert short_name(model) == short


def test_short_names_that_collide_become_numbers() -> None:
    twins = [
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
    ]
    assert short_names(twins) == {twins[0]: "m1", twins[1]: "m2"}
