"""What a run cost as a whole: warmup requests and requests cancelled at a stop are billed too,
so "cost of this run" counts them (issue 17, defects 1 and 4), while the per-model figures
stay those of the measured requests."""

from __future__ import annotations

from typing import Any

import pytest
from rich.console import Console

from loadgen.core.sample import ErrorClass
from loadgen.report.console import print_summary
from tests.factories import make_report, make_sample

TARGET: dict[str, Any] = {"emulated": False}
LOAD: dict[str, Any] = {"loop": "open", "rate": 1.0, "warmup": 1.0}  # 2 warmup requests
PRICED: dict[str, Any] = {
    "budget_usd": None,
    "spent_usd": None,
    "project_rps": None,
    "prices": {"m": {"catalogue_id": "m"}},  # priced: the model's cost section is filled
}


def _samples() -> list[Any]:
    measured = [make_sample(i, cost_usd=0.001) for i in range(3)]
    warmup = [make_sample(10 + i, warmup=True, cost_usd=0.002) for i in range(2)]
    # Sent, then in flight at the stop: billed, for an amount no usage says.
    cancelled = make_sample(
        20,
        error=ErrorClass.CANCELLED,
        error_code="Cancelled",
        end_us=None,
        itl_us=(),
        input_tokens=None,
        output_tokens=None,
        cost_usd=None,
    )
    dropped = make_sample(
        21, error=ErrorClass.DROPPED, send_us=None, first_token_us=None, cost_usd=0.0
    )
    return [*measured, *warmup, cancelled, dropped]


def test_the_run_total_counts_warmup_and_cancelled_requests() -> None:
    report = make_report(_samples(), cost=PRICED, target=TARGET, load=LOAD)
    spend = report["run"]["cost"]["spend"]
    assert spend["measured_usd"] == pytest.approx(0.003)
    assert spend["warmup_usd"] == pytest.approx(0.004)
    assert spend["cancelled_usd"] == 0.0
    assert spend["total_usd"] == pytest.approx(0.007)
    assert (spend["cancelled_requests"], spend["unpriced_requests"]) == (1, 1)
    # The model's own figures are its measured requests': warmup is left out of them.
    assert report["models"]["m"]["cost"]["total_usd"] == pytest.approx(0.003)


def test_the_console_says_what_the_run_cost_and_what_is_unknown() -> None:
    console = Console(record=True, width=200)
    print_summary(make_report(_samples(), cost=PRICED, target=TARGET, load=LOAD), console)
    text = console.export_text()
    assert "cost of this run: $0.007000" in text
    assert "warmup $0.004000" in text
    assert "1 request billed for an unknown amount" in text
