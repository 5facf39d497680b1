"""Histogram.mean is hdrh's own mean, computed without walking hdrh's iterator."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.core.histogram import LATENCY_MAX_US, TOKENS_MAX, Histogram


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=LATENCY_MAX_US), min_size=1, max_size=200))
def test_mean_equals_hdrhs_mean(values: list[int]) -> None:
    histogram = Histogram(LATENCY_MAX_US)
    for value in values:
        histogram.record(value)
    assert histogram.mean() == pytest.approx(histogram.hdr.get_mean_value(), rel=1e-12)


def test_an_empty_histogram_has_no_mean_in_its_summary() -> None:
    histogram = Histogram(LATENCY_MAX_US)
    assert histogram.mean() == 0.0
    assert histogram.summary()["mean"] is None


# What the fast paths must match: hdrh's own record_value, one value at a time, as `record`
# called it before (values floored at 1, rejected ones counted).
def reference(values: list[int], highest: int) -> Histogram:
    histogram = Histogram(highest)
    for value in values:
        if not histogram.hdr.record_value(max(int(value), 1)):
            histogram.out_of_range += 1
    return histogram


def assert_same(actual: Histogram, expected: Histogram) -> None:
    assert actual.encode() == expected.encode()
    assert actual.count == expected.count
    assert actual.out_of_range == expected.out_of_range
    assert actual.hdr.min_value == expected.hdr.min_value
    assert actual.hdr.max_value == expected.hdr.max_value
    assert actual.hdr.get_min_value() == expected.hdr.get_min_value()
    assert actual.hdr.get_max_value() == expected.hdr.get_max_value()
    assert actual.summary() == expected.summary()


# Values around every edge: zero and negatives (floored at 1), the sub-bucket boundaries,
# the histogram's top and past it, past int64.
edge_values = st.one_of(
    st.integers(min_value=-10, max_value=5000),
    st.integers(min_value=0, max_value=2 * LATENCY_MAX_US),
    st.integers(min_value=0, max_value=40).map(lambda k: 2**k - 1),
    st.integers(min_value=0, max_value=40).map(lambda k: 2**k),
    st.sampled_from([LATENCY_MAX_US, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**70, -(2**70)]),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(edge_values, max_size=120), st.sampled_from([LATENCY_MAX_US, TOKENS_MAX]))
def test_record_and_record_many_equal_hdrhs_record_value(values: list[int], highest: int) -> None:
    expected = reference(values, highest)
    one_by_one = Histogram(highest)
    for value in values:
        one_by_one.record(value)
    assert_same(one_by_one, expected)
    many = Histogram(highest)
    many.record_many(values)
    assert_same(many, expected)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(edge_values, max_size=60), max_size=5))
def test_record_many_adds_to_what_is_there(batches: list[list[int]]) -> None:
    many = Histogram(LATENCY_MAX_US)
    for batch in batches:
        many.record_many(tuple(batch))
    assert_same(many, reference([v for batch in batches for v in batch], LATENCY_MAX_US))


def test_record_many_of_an_answers_gaps_gives_its_percentiles() -> None:
    gaps = [10_000 + 37 * k for k in range(50)]
    histogram = Histogram(LATENCY_MAX_US)
    histogram.record_many(gaps)
    assert histogram.count == 50
    assert histogram.hdr.get_value_at_percentile(50) == pytest.approx(gaps[24], rel=1e-3)
    assert histogram.hdr.get_max_value() == pytest.approx(gaps[-1], rel=1e-3)
