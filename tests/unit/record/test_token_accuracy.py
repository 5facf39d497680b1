"""Requested against actual tokens of synthetic prompts (loadgen/record/token_accuracy.py)."""

from __future__ import annotations

import pytest

from loadgen.core.sample import ErrorClass
from loadgen.record.token_accuracy import TokenAccuracy
from tests.factories import make_sample

REQUESTED = {"s0": (1000, 200), "s1": (2000, 400)}


def test_input_and_output_are_compared_per_request() -> None:
    accuracy = TokenAccuracy(REQUESTED)
    accuracy.add(make_sample(1, row_id="s0", input_tokens=1010, output_tokens=200))
    accuracy.add(make_sample(2, row_id="s1", input_tokens=1960, output_tokens=100))
    assert accuracy.models() == ["m"] and accuracy.compared("m") == 2
    into = accuracy.input("m")
    assert (into.requested.p50, into.actual.p50) == (1500.0, 1485.0)
    assert into.relative_error.p50 == pytest.approx((0.01 + 0.02) / 2)
    assert into.mean_relative_error == pytest.approx((0.01 - 0.02) / 2)
    out = accuracy.output("m")
    assert out.actual.p95 == pytest.approx(100 + 0.95 * 100)
    assert out.mean_relative_error == pytest.approx(-0.375)  # (0 - 0.75) / 2


def test_cache_reads_and_writes_are_input_too() -> None:
    accuracy = TokenAccuracy(REQUESTED)
    sample = make_sample(row_id="s0", input_tokens=10, cache_read_tokens=900, cache_write_tokens=90)
    accuracy.add(sample)
    assert accuracy.input("m").actual.p50 == 1000.0


def test_failures_estimates_and_other_rows_are_left_out() -> None:
    accuracy = TokenAccuracy(REQUESTED)
    accuracy.add(make_sample(1, row_id="s0", error=ErrorClass.THROTTLED))
    accuracy.add(make_sample(2, row_id="s0", tokens_estimated=True))
    accuracy.add(make_sample(3, row_id="preflight"))
    accuracy.add(make_sample(4, row_id="s0", input_tokens=None))
    assert accuracy.compared("m") == 0
    empty = accuracy.input("m")
    assert (empty.requested.p50, empty.relative_error.p95, empty.mean_relative_error) == (
        None,
        None,
        None,
    )
