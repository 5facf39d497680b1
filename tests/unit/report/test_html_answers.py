"""report.html's answer sections: a card for the cache hit rate and TTFA, an alert for flagged
answers, a table per section the run had; nothing of it for a plain run."""

from __future__ import annotations

from typing import Any

import pytest

from loadgen.report.html.page import render
from tests.factories import make_report, make_sample
from tests.unit.report.test_answer_sections import _workload

pytestmark = pytest.mark.unit
TARGET = {
    "provider": "bedrock",
    "api": "bedrock-converse-stream",
    "region": "us-east-1",
    "endpoint_url": None,
    "emulated": False,
}
LOAD = {
    "loop": "open",
    "rate_shape": "constant",
    "rate": 1.0,
    "arrival": "constant",
    "warmup": 0.0,
    "max_in_flight": 10,
    "model_order": "round_robin",
}
TITLES = ("Prompt cache", "Reasoning", "Tool use", "Served by tier", "Conversation turns")


def _page(samples: list[Any]) -> str:
    return render(make_report(samples, target=TARGET, load=LOAD))


def test_every_answer_section_of_a_workload_is_on_the_page() -> None:
    page = _page(_workload())
    for title in (*TITLES, "Stop reasons", "Outcomes"):
        assert f"<h3>{title}</h3>" in page, title
    assert "cache hit rate" in page and "TTFA p50 / p99" in page
    assert 'class="card flagged"' in page
    assert '<div class="alert">Flagged answers: 1 guardrail interventions' in page


def test_a_plain_run_has_none_of_them() -> None:
    page = _page([make_sample(i, stop_reason="end_turn") for i in range(1, 4)])
    for title in (*TITLES, "Stop reasons", "Outcomes"):
        assert f"<h3>{title}</h3>" not in page, title
    assert "Flagged answers" not in page and "cache hit rate" not in page
