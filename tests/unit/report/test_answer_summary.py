"""stats.csv and --summary carry the main answer figures: stop reasons, flagged outcomes, the
cache hit rate and TTFA, read from report.json."""

from __future__ import annotations

import pytest

from loadgen.report.summary import summary_rows
from tests.factories import make_report, make_sample
from tests.unit.report.test_answer_sections import _workload

pytestmark = pytest.mark.unit


def test_the_answer_columns_are_the_reports() -> None:
    report = make_report(_workload())
    (row,) = summary_rows(report)
    model = report["models"]["m"]
    stops = model["stop_reasons"]
    assert row["stop_reasons"] == " ".join(f"{k}={v}" for k, v in stops.items())
    assert row["guardrail_intervened"] == stops["guardrail_intervened"]
    assert row["truncated"] == model["outcomes"]["truncated"]["count"]
    assert row["content_filtered"] == 0
    assert row["cache_hit_rate"] == model["cache"]["hit_rate"]
    ttfa = model["latency_ms"]["ttfa"]
    assert (row["ttfa_p50_ms"], row["ttfa_p99_ms"]) == (ttfa["p50"], ttfa["p99"])


def test_a_run_that_read_no_cache_has_a_hit_rate_of_zero() -> None:
    (row,) = summary_rows(make_report([make_sample(i) for i in range(1, 4)]))
    assert row["cache_hit_rate"] == 0.0
    (unknown,) = summary_rows(make_report([make_sample(1, input_tokens=None, output_tokens=None)]))
    assert unknown["cache_hit_rate"] is None  # no usage: nothing to say
