"""The saturation rules, on what a stage measured: throughput is judged with the confidence
interval of its count, so Poisson noise in a short stage makes no knee and a real
saturation does."""

from __future__ import annotations

import dataclasses

import numpy as np

from loadgen.capacity.judging import saturation_reasons
from loadgen.capacity.sweep import knee_rps
from tests.unit.capacity.stages import SETTINGS, make_evidence, make_stage


def test_a_short_stage_below_90_percent_by_poisson_noise_alone_is_not_saturated() -> None:
    # 5 s at 2 req/s offers 10; 7 came back, as Poisson arrivals often give: 1.4 req/s.
    evidence = make_evidence(offered=2.0, completed=7, window_s=5.0)
    throughput = evidence.throughput_rps
    assert throughput is not None and throughput < 0.9 * 2.0  # the bare rule would fire
    interval = evidence.throughput_interval
    assert interval is not None and interval[0] < throughput < interval[1]
    assert interval[1] >= 0.9 * 2.0
    assert saturation_reasons(evidence, SETTINGS) == []


def test_poisson_noise_at_10_requests_a_stage_makes_a_knee_rarely_the_bare_rule_often() -> None:
    """Stages that keep up exactly: their counts are Poisson draws around rate x duration."""
    rng = np.random.default_rng(7)
    counts = rng.poisson(10, size=2000)
    judged = [saturation_reasons(make_evidence(2.0, int(n), 5.0), SETTINGS) for n in counts]
    knees = sum(1 for reasons in judged if reasons) / len(counts)
    bare = float(np.mean(counts / 5.0 < 0.9 * 2.0))
    assert bare > 0.25  # what a sweep of 5 s stages at 2 req/s used to see
    assert knees < 0.025  # a one-sided 2.5 % tail at most


def test_a_stage_that_delivers_80_percent_of_400_offered_requests_is_saturated() -> None:
    evidence = make_evidence(offered=20.0, completed=320, window_s=20.0)
    reasons = saturation_reasons(evidence, SETTINGS)
    assert len(reasons) == 1 and reasons[0].startswith("throughput 16 req/s (95% interval")
    assert "< 90% of 20 req/s offered" in reasons[0]


def test_the_knee_comes_from_a_real_saturation_not_from_noise() -> None:
    steady = [
        make_stage(rate, make_evidence(rate, round(rate * 30), 30.0))
        for rate in (1.0, 2.0, 4.0, 8.0)
    ]
    assert knee_rps(steady, SETTINGS) is None
    # The 4 req/s stage is short and unlucky (7 of 10 back): noise, no knee.
    noisy = [*steady]
    noisy[2] = make_stage(4.0, make_evidence(4.0, 7, 2.5))
    assert not noisy[2].saturated
    assert knee_rps(noisy, SETTINGS) is None
    # The 8 req/s stage delivers half of what it was offered over 240 requests: the knee is 4.
    saturated = [*steady]
    saturated[3] = make_stage(8.0, make_evidence(8.0, 120, 30.0))
    assert saturated[3].saturated
    assert knee_rps(saturated, SETTINGS) == 4.0


def test_the_other_rules_still_apply() -> None:
    calm = make_evidence(offered=10.0, completed=300, window_s=30.0)
    assert saturation_reasons(calm, SETTINGS) == []
    throttled = dataclasses.replace(calm, throttled=30)
    assert saturation_reasons(throttled, SETTINGS) == ["throttle rate 10.0% > 5.0%"]
    queue = dataclasses.replace(calm, ttft_growth=3.0, ttft_first_ms=100.0, ttft_last_ms=300.0)
    assert saturation_reasons(queue, SETTINGS)[0].startswith("TTFT growing: median 100 ms")
    lagging = dataclasses.replace(calm, lag_p99_ms=1234.5)
    assert saturation_reasons(lagging, SETTINGS) == [
        "generator-limited: schedule lag p99 1,234.5 ms > 50 ms"
    ]
