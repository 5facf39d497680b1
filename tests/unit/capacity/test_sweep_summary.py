"""What a sweep says, in words and figures: "meets SLOs" only of SLOs given, numbers written
for people, and stages too short to judge made longer, with a warning."""

from __future__ import annotations

import re

from rich.console import Console

from loadgen.capacity.console import print_sweep
from loadgen.capacity.stage import MEETS_SLOS, MISSES_SLOS, NO_SLOS, SATURATED
from loadgen.capacity.stage_length import MIN_STAGE_REQUESTS, stage_length
from loadgen.capacity.sweep import _model_summary
from tests.unit.capacity.stages import SETTINGS, make_evidence, make_stage

QUOTA = {"source": "scenario", "rpm": 1000, "tpm": 2_000_000, "output_burndown": 1.0}
E_NOTATION = re.compile(r"\d[eE][+-]?\d")


def _printed(summary: dict[str, object], *, stages: bool = True) -> str:
    console = Console(width=200, record=True, color_system=None)
    print_sweep(summary, console, stages=stages)
    return console.export_text()


def _sweep(model_summary: dict[str, object]) -> dict[str, object]:
    return {"scenario": "s", "status": "completed", "models": {"m": model_summary}, "warnings": []}


def test_without_slos_no_stage_is_said_to_meet_them() -> None:
    stages = [make_stage(r) for r in (1.0, 2.0, 4.0)]
    assert {s.verdict for s in stages} == {NO_SLOS}
    assert all(s.to_json()["meets_slos"] is None for s in stages)
    assert "no SLOs given" in stages[0].one_line("m")
    summary = _model_summary(stages, QUOTA, SETTINGS, slos=[])
    out = _printed(_sweep(summary))
    assert "m: no SLOs given; kept up to 4 req/s" in out
    assert "meets" not in out and "SLOs (" not in out


def test_with_slos_a_stage_meets_or_misses_them_by_name() -> None:
    passed = make_stage(1.0, thresholds_passed=True)
    failed = make_stage(2.0, thresholds_passed=False, failed_checks=("ttft.p95 < 800ms",))
    saturated = make_stage(4.0, make_evidence(4.0, 60, 30.0), thresholds_passed=True)
    assert (passed.verdict, failed.verdict, saturated.verdict) == (
        MEETS_SLOS,
        MISSES_SLOS,
        SATURATED,
    )
    assert passed.to_json()["meets_slos"] is True and failed.to_json()["meets_slos"] is False
    assert failed.one_line("m").endswith("misses SLOs (ttft.p95 < 800ms)")
    summary = _model_summary([passed, failed, saturated], QUOTA, SETTINGS, ["ttft.p95 < 800ms"])
    out = _printed(_sweep(summary))
    assert "m: meets the SLOs (ttft.p95 < 800ms) up to 1 req/s" in out
    assert "saturated: throughput 2 req/s" in out


def test_figures_are_written_for_people() -> None:
    # (1,000 + 359.7) tokens a request at 30 req/s: 2,447,460 tokens a minute.
    stage = make_stage(30.0)
    stage.quota = QUOTA
    summary = _model_summary([stage], QUOTA, SETTINGS, slos=[])
    printed = _printed(_sweep(summary))
    assert "2,447,460" in printed  # thousands separated, where the old table had 2.447e+06
    assert "1,800" in printed  # RPM
    assert "1.328" in printed  # $ / hour: 0.0000123 $ a request at 30 req/s
    assert "30 req/s uses 180.00% of its RPM, 122.37% of its TPM" in printed
    assert not E_NOTATION.search(printed), printed
    assert "30 (28.07-32.03)" in printed  # throughput with its 95 % interval


def test_a_stage_too_short_to_judge_runs_longer_and_says_so() -> None:
    short = stage_length(rate=2.0, asked_s=5.0, min_requests=MIN_STAGE_REQUESTS)
    assert short.lengthened and short.duration_s == MIN_STAGE_REQUESTS / 2.0
    warning = short.warning()
    assert warning is not None
    minimum = f"{MIN_STAGE_REQUESTS:,}"
    assert f"5 s at 2 req/s offers about 10 requests, fewer than the {minimum}" in warning
    assert warning.endswith(f"the stage runs {MIN_STAGE_REQUESTS // 2} s")
    long_enough = stage_length(rate=20.0, asked_s=30.0, min_requests=MIN_STAGE_REQUESTS)
    assert not long_enough.lengthened and long_enough.warning() is None
    assert long_enough.duration_s == 30.0
    # Whole seconds, never one too many: 400 at 40 req/s is 10 s; at 3 req/s, 134 s.
    assert stage_length(40.0, 1.0, 400).duration_s == 10.0
    assert stage_length(3.0, 1.0, 400).duration_s == 134.0


def test_an_80_column_terminal_gets_every_figure_whole() -> None:
    model = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
    stage = make_stage(30.0)
    stage.quota = QUOTA
    summary = {
        "scenario": "s",
        "status": "completed",
        "warnings": [],
        "models": {model: _model_summary([stage], QUOTA, SETTINGS, slos=[])},
    }
    console = Console(width=80, record=True, color_system=None)
    print_sweep(summary, console, stages=True)
    printed = console.export_text()
    assert "…" not in printed and "2,447,460" in printed and "30 (28.07-32.03)" in printed
    assert f"claude-3-7-sonnet = {model}" in printed  # the legend of the short name
    assert all(len(line) <= 80 for line in printed.splitlines())


def test_the_shared_figure_format_never_writes_e_notation() -> None:
    from loadgen.report.html.tables import fmt

    cases = {
        40_780.0: "40,780.0",
        2_447_460: "2,447,460",
        1.19: "1.19",
        0.00072: "0.00072",
        0.0000123456: "0.00001235",
        -0.000004: "-0.000004",
        1e-9: "0.000000001",
    }
    assert {value: fmt(value) for value in cases} == cases
