"""The answer sections in the console summary: flagged outcomes, stop reasons, cache,
reasoning, tool use, tiers and a table per turn, fitted to 80 columns; none of it for a plain
run."""

from __future__ import annotations

import io
from typing import Any

import pytest
from rich.console import Console

from loadgen.report.console import print_summary
from tests.factories import make_report, make_sample
from tests.unit.report.test_answer_sections import _workload

pytestmark = pytest.mark.unit
LABELS = ("flagged:", "stop reasons:", "cache:", "reasoning:", "tool use:", "served by tier:")


def _printed(report: Any, width: int = 80) -> str:
    screen = io.StringIO()
    print_summary(report, Console(file=screen, width=width, color_system=None))
    return screen.getvalue()


def test_a_workload_with_every_kind_says_each_within_80_columns() -> None:
    report = make_report(_workload(), load={"max_in_flight": 3}, target_rps=8.0)
    text = _printed(report)
    assert all(len(line) <= 80 for line in text.splitlines())
    flat = " ".join(text.split())
    for label in LABELS:
        assert f"{label} m:" in flat, label
    cache = report["models"]["m"]["cache"]
    assert f"hit rate {cache['hit_rate']:.1%}" in flat
    assert "1 guardrail interventions (10.0%)" in flat
    assert "conversation turns" in flat
    turns = report["models"]["m"]["turns"]
    for turn, figures in turns.items():
        row = next(line for line in text.splitlines() if line.split()[:2] == ["m", turn])
        assert row.split()[2] == str(figures["requests"])


def test_a_plain_run_shows_nothing_new() -> None:
    samples = [make_sample(i, stop_reason="end_turn") for i in range(1, 6)]
    flat = " ".join(_printed(make_report(samples, load={"max_in_flight": 3})).split())
    for label in (*LABELS, "conversation turns"):
        assert label not in flat, label
