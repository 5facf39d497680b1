"""Histogram.mean is hdrh's own mean, computed without walking hdrh's iterator."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.histogram import LATENCY_MAX_US, Histogram


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
