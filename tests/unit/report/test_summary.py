"""The compact summary: one row per model with the columns docs/summary.md lists, written as
CSV a spreadsheet reads (plain decimals, empty for null), Markdown that opens with the trust
line, and JSON without histograms; the checks as JUnit test cases."""

from __future__ import annotations

import csv
import io
import json
from typing import Any, get_type_hints

import pytest

from loadgen.commands.tool_outputs import SUMMARY_FORMATS as COMMAND_FORMATS
from loadgen.core.sample import ErrorClass
from loadgen.report.junit import junit_xml
from loadgen.report.summary import (
    COLUMN_NAMES,
    SUMMARY_FORMATS,
    SummaryRow,
    compact_summary,
    summary_csv,
    summary_markdown,
    summary_rows,
)
from tests.factories import make_mixed_samples, make_report, make_sample
from tests.helpers import REPO


def _report(**changes: Any) -> Any:
    report = make_report(
        make_mixed_samples(), target={"api": "bedrock-converse-stream", "emulated": False}
    )
    report["run"].update(changes)
    return report


def test_the_declared_columns_are_the_rows_keys_and_the_commands_formats() -> None:
    assert tuple(get_type_hints(SummaryRow)) == COLUMN_NAMES
    assert COMMAND_FORMATS == SUMMARY_FORMATS  # the command cannot import the library early


def test_each_row_counts_the_models_requests_as_the_report_does() -> None:
    report = _report()
    rows = {row["model"]: row for row in summary_rows(report)}
    assert list(rows) == list(report["models"])
    for model, section in report["models"].items():
        requests, row = section["requests"], rows[model]
        assert row["sent"] == row["ok"] + row["errors"] == requests["sent"]
        assert row["throttled"] == requests["errors"]["throttled"] > 0
        assert row["dropped"] == requests["dropped"]
        assert row["error_rate"] == pytest.approx(row["errors"] / row["sent"], abs=1e-6)
        assert row["ttft_p99_ms"] == section["latency_ms"]["ttft"]["service"]["p99"]
        assert row["tpot_p50_ms"] == section["latency_ms"]["tpot"]["p50"]
    assert any(row["dropped"] for row in rows.values())
    # A run that dropped requests did not offer the load asked for (loadgen/report/trust.py).
    assert not any(row["trustworthy"] for row in rows.values())


def test_the_csv_has_plain_decimals_empty_nulls_and_true_false() -> None:
    report = make_report([make_sample(1, output_tokens=1), make_sample(2, output_tokens=1)])
    section = report["models"]["m"]
    section["cost"] = {"per_1k_answered_usd": 0.000035}  # a tiny cost: no 3.5e-05
    section["throughput"]["output_tokens_per_s"] = 352  # a whole figure, read back as an int
    read = list(csv.DictReader(io.StringIO(summary_csv(report))))
    assert len(read) == 1
    (row,) = read
    assert list(row) == list(COLUMN_NAMES)
    assert row["cost_per_1k_answered_usd"] == "0.000035"
    assert row["output_tokens_per_s"] == "352.0"  # stays a decimal column
    assert row["tpot_p50_ms"] == ""  # one output token: no TPOT, null
    assert (row["emulated"], row["trustworthy"]) == ("false", "true")
    assert "e-" not in summary_csv(report)


def test_markdown_opens_with_the_trust_line() -> None:
    text = summary_markdown(_report())
    heading, _, trust = text.splitlines()[:3]
    assert heading.startswith("### loadgen: s")
    assert trust.startswith("**NOT TRUSTWORTHY") and "dropped" in trust
    assert "| `nova-lite` |" in text


def test_the_compact_json_has_no_histograms() -> None:
    report = _report(run_id="r-1")
    summary = compact_summary(report)
    text = json.dumps(summary)
    assert "HISTF" not in text and len(text) < len(json.dumps(report)) / 4
    assert summary["run"]["run_id"] == "r-1" and summary["trust"]["trustworthy"] is False
    assert [row["model"] for row in summary["models"]] == list(report["models"])


def _with_checks(report: Any) -> Any:
    report["thresholds"] = {
        "passed": False,
        "failed": 1,
        "results": [
            _check("ttft.p95 < 800ms", "nova-lite", 912.4, 800.0, False),
            _check("ttft.p95 < 800ms", "nova-pro", 700.0, 800.0, True),
        ],
    }
    return report


def _check(text: str, model: str, measured: float, limit: float, passed: bool) -> Any:
    return {
        "check": text,
        "model": model,
        "metric": "ttft",
        "stat": "p95",
        "op": "<",
        "limit": limit,
        "unit": "ms",
        "measured": measured,
        "passed": passed,
        "reason": None,
    }


def test_junit_has_a_case_per_check_and_a_failure_with_measured_against_limit() -> None:
    xmlschema = pytest.importorskip("xmlschema")
    junitparser = pytest.importorskip("junitparser")
    report = _report(
        status="interrupted", status_reason="SIGINT", started_at="2026-12-03T07:16:07.309Z"
    )
    text = junit_xml(_with_checks(report), "host")
    xmlschema.XMLSchema(REPO / "tests" / "data" / "junit-ant.xsd").validate(text)
    suites = {suite.name: suite for suite in junitparser.JUnitXml.fromstring(text)}
    assert list(suites) == ["run", "nova-lite", "nova-pro"]  # models with a check only
    lite = next(iter(suites["nova-lite"]))
    (failure,) = lite.result
    assert failure.message == "measured 912.4 ms, limit < 800.0 ms"
    assert next(iter(suites["nova-pro"])).is_passed
    run = {case.name: case for case in suites["run"]}
    assert not run["completed"].is_passed  # interrupted
    assert not run["trustworthy"].is_passed  # it dropped requests
    assert 'timestamp="2026-12-03T07:16:07"' in text and ErrorClass.DROPPED.value in text
