"""One samples.jsonl line: one type per field, every duration in microseconds, a cost in whole
nano-dollars, text never null, the run's id and a wall-clock start on each line; and a line
written by an earlier loadgen still reads."""

from __future__ import annotations

from typing import get_type_hints

import pytest

from loadgen.core.sample import ErrorClass, LineFormat, Sample, SampleLine
from loadgen.report.schema import validate_sample_line
from tests.factories import make_sample

T0_UNIX_US = 1_796_282_167_409_075
FORMAT = LineFormat("3a2c26ad-1ba3-4647-8710-0ed5f33b4f5a", T0_UNIX_US)


def test_a_line_has_every_field_of_sample_line_in_order_with_its_type() -> None:
    line = make_sample(7, cost_usd=3.7619999999999996e-05, server_latency_ms=559).to_json_dict(
        FORMAT
    )
    written_out = {"response_text"}  # only with --keep-text
    assert list(line) == [name for name in get_type_hints(SampleLine) if name not in written_out]
    assert validate_sample_line(line) == line  # strict: no float for an int, no null for text
    assert line["run_id"] == FORMAT.run_id
    assert line["start_unix_us"] == T0_UNIX_US + line["intended_us"]
    assert line["cost_nusd"] == 37_620  # not 3.7619999999999996e-05
    assert line["server_latency_us"] == 559_000  # the server's milliseconds, in microseconds
    assert line["client_overhead_us"] == line["ttlt_service_us"] - 559_000


def test_a_successful_line_names_no_error_and_a_dropped_one_nothing_it_did_not_reach() -> None:
    ok = make_sample(1).to_json_dict(FORMAT)
    assert (ok["outcome"], ok["http_status"], ok["error_code"], ok["error_message"]) == (
        "ok",
        200,
        "",
        "",
    )
    # Sent without queueing for a connection: waited 0; usage without cache tokens: 0 of them.
    assert (ok["pool_wait_us"], ok["cache_read_tokens"], ok["cache_write_tokens"]) == (0, 0, 0)
    dropped = make_sample(
        2,
        error=ErrorClass.DROPPED,
        error_code="InFlightCap",
        send_us=None,
        first_token_us=None,
        end_us=None,
        itl_us=(),
        input_tokens=None,
        output_tokens=None,
    ).to_json_dict(FORMAT)
    assert dropped["outcome"] == "dropped" and dropped["error_code"] == "InFlightCap"
    for name in ("send_us", "pool_wait_us", "http_status", "cache_read_tokens", "cost_nusd"):
        assert dropped[name] is None, name
    assert validate_sample_line(dropped) == dropped


def test_a_failure_keeps_its_status_and_code() -> None:
    line = make_sample(
        3, error=ErrorClass.THROTTLED, error_code="ThrottlingException", http_status=429
    ).to_json_dict(FORMAT)
    assert (line["outcome"], line["http_status"], line["error_code"]) == (
        "throttled",
        429,
        "ThrottlingException",
    )
    assert line["error_message"] == ""  # none was given: text is never null


def test_fields_the_run_cannot_measure_are_left_out_and_text_only_when_kept() -> None:
    sample = make_sample(1, response_text="Revenue grew.")
    omitted = ("server_first_byte_us", "server_latency_us", "client_overhead_us")
    line = sample.to_json_dict(LineFormat("r", 0, omit=omitted))
    assert not set(omitted) & set(line) and "response_text" not in line
    keep = LineFormat("r", 0, keep_text=True)
    assert sample.to_json_dict(keep)["response_text"] == "Revenue grew."
    failed = make_sample(2, error=ErrorClass.SERVER).to_json_dict(keep)
    assert failed["response_text"] == ""


@pytest.mark.parametrize("error", [None, "timeout", "cancelled"])
def test_a_line_reads_back_to_a_sample_that_writes_it_again(error: str | None) -> None:
    sample = make_sample(
        4,
        error=None if error is None else ErrorClass(error),
        error_code=None if error is None else "TotalTimeout",
        cost_usd=0.000123456789,
        server_latency_ms=812,
        server_first_byte_ms=120,
        pool_wait_us=35,
        api="bedrock-invoke-stream",
    )
    line = sample.to_json_dict(FORMAT)
    back = Sample.from_json_dict(dict(line))
    assert back.to_json_dict(FORMAT) == line
    assert (back.server_latency_ms, back.server_first_byte_ms, back.pool_wait_us) == (812, 120, 35)
    assert back.cost_usd == pytest.approx(0.000123456789, abs=5e-10)
    assert back.error == sample.error and back.ok == sample.ok


def test_a_line_of_schema_version_2_still_reads() -> None:
    old = {
        "request_id": 1,
        "model": "m",
        "row_id": "r",
        "warmup": False,
        "intended_us": 0,
        "dispatch_us": 5,
        "send_us": 100,
        "first_token_us": 300_000,
        "end_us": 500_000,
        "pool_wait_us": None,
        "itl_us": [10_000, 12_000],
        "deltas": 3,
        "input_tokens": 10,
        "output_tokens": 3,
        "cache_read_tokens": None,
        "cache_write_tokens": None,
        "tokens_estimated": False,
        "cost_usd": 3.7619999999999996e-05,
        "server_latency_ms": 499,
        "stop_reason": "end_turn",
        "error": "throttled",
        "error_code": "ThrottlingException",
        "error_message": None,
        "http_status": 429,
        "server_first_byte_ms": None,
        "api": None,
        "response_text": None,
        "schedule_lag_us": 5,
        "ttft_service_us": 299_900,
    }
    sample = Sample.from_json_dict(old)
    assert (sample.cost_usd, sample.server_latency_ms, sample.itl_us) == (
        3.7619999999999996e-05,
        499,
        (10_000, 12_000),
    )
    assert sample.error is ErrorClass.THROTTLED and sample.http_status == 429
