"""The statistics `loadgen compare` uses, on known data: bucket percentiles are HDR's, and the
two-proportion test. The commands themselves: tests/e2e/test_regression_tools.py."""

from __future__ import annotations

import numpy as np
import pytest

from loadgen.compare.bootstrap import Distribution, percentile, point, two_proportion_p_value
from loadgen.core.histogram import LATENCY_MAX_US, Histogram


def test_bucket_percentiles_are_hdr_percentiles() -> None:
    rng = np.random.default_rng(3)
    histogram = Histogram(LATENCY_MAX_US)
    for value in rng.lognormal(11, 0.6, 5000).astype(int):
        histogram.record(int(value))
    distribution = Distribution.for_percentiles(histogram)
    for q in (50.0, 90.0, 99.0, 99.9):
        assert point(distribution, percentile(q)) == histogram.hdr.get_value_at_percentile(q)


def test_two_proportion_p_value() -> None:
    # 10/100 against 30/100: pooled 0.2, z = 3.536, two-sided p = 0.000407.
    assert two_proportion_p_value(10, 100, 30, 100) == pytest.approx(0.000407, rel=0.01)
    assert two_proportion_p_value(0, 100, 0, 100) == 1.0
    assert two_proportion_p_value(5, 100, 6, 100) > 0.5
