"""A sweep stage judged from its samples and the report the run's own code builds from them."""

from __future__ import annotations

import json
from pathlib import Path

from loadgen.capacity.stage import StageResult, assess_stage
from loadgen.config.scenario import Scenario
from loadgen.config.thresholds import evaluate, report_section
from loadgen.core.sample import ErrorClass, LineFormat, Sample
from tests.conftest import ScenarioFactory
from tests.factories import make_report, make_sample

RATE = 20.0
GAP_US = 50_000


def _sample(i: int, ttft_ms: float, *, error: ErrorClass | None = None) -> Sample:
    intended = i * GAP_US
    first = intended + round(ttft_ms * 1000)
    return make_sample(
        i,
        start_us=intended,
        dispatch_us=intended,
        send_us=intended,
        first_token_us=None if error else first,
        end_us=first + 50_000,
        itl_us=(),
        deltas=0,
        output_tokens=None if error else 20,
        error=error,
    )


def _stage(tmp_path: Path, scenario: Scenario, samples: list[Sample]) -> StageResult:
    report = make_report(
        samples,
        load={"model": "open_loop"},
        target_rps=RATE,
        scheduled_rps=RATE,
        achieved_rps=RATE,
    )
    checks = [spec.parsed() for spec in scenario.thresholds]
    report["thresholds"] = report_section(evaluate(checks, report["models"])) if checks else None
    with (tmp_path / "samples.jsonl").open("w") as handle:
        for sample in samples:
            handle.write(json.dumps(sample.to_json_dict(LineFormat("run", 0))) + "\n")
    quota = {"rpm": 6000, "tpm": None, "output_burndown": 1.0}
    return assess_stage(report, "m", RATE, tmp_path, scenario, quota)


def test_a_steady_stage_is_not_saturated_and_goodput_counts_requests_within_the_slo(
    tmp_path: Path, make_scenario: ScenarioFactory
) -> None:
    scenario = make_scenario(models=["m"], thresholds=["ttft.p95 < 100ms"])
    # Every fourth request is slow: the p95 misses the SLO, and those requests are not good.
    samples = [_sample(i, 150.0 if i % 4 == 0 else 50.0) for i in range(40)]
    stage = _stage(tmp_path, scenario, samples)
    assert not stage.saturated, stage.reasons
    assert stage.thresholds_passed is False and stage.failed_checks == ["ttft.p95 < 100ms"]
    assert not stage.meets_slos
    assert stage.throughput_rps is not None and abs(stage.throughput_rps - RATE) < 1.5
    assert stage.goodput_rps is not None and stage.throughput_rps is not None
    assert abs(stage.goodput_rps / stage.throughput_rps - 0.75) < 0.01
    capacity = stage.capacity_json()
    assert capacity["requests_per_minute"] == 1200
    assert capacity["quota_rpm_share"] == 0.2
    assert capacity["tokens_per_minute"] == 120 * 1200  # (100 in + 20 out) per request


def test_a_queue_that_grows_through_the_stage_is_saturation(
    tmp_path: Path, make_scenario: ScenarioFactory
) -> None:
    scenario = make_scenario(models=["m"])
    # Each request waits 40 ms longer than the one before: a queue growing without bound,
    # answering 70 % of the offered rate. 400 requests: enough for the throughput's interval
    # to tell (capacity/stage_length.py).
    stage = _stage(tmp_path, scenario, [_sample(i, 50.0 + 40 * i) for i in range(400)])
    assert stage.saturated and stage.thresholds_passed is None
    assert any(r.startswith("TTFT growing") for r in stage.reasons)
    assert any(r.startswith("throughput") for r in stage.reasons)
    assert stage.verdict == "saturated" and stage.meets_slos is None
    assert not stage.good and not stage.generator_limited_only
    # At 40 the same queue shows in TTFT, but 40 completions cannot tell the throughput.
    short = _stage(tmp_path, scenario, [_sample(i, 50.0 + 40 * i) for i in range(40)])
    assert any(r.startswith("TTFT growing") for r in short.reasons)
    assert not any(r.startswith("throughput") for r in short.reasons)
    assert short.throughput_rps is not None and short.throughput_rps < 0.9 * RATE


def test_errors_and_throttles_above_their_limits_are_saturation(
    tmp_path: Path, make_scenario: ScenarioFactory
) -> None:
    scenario = make_scenario(models=["m"])
    samples = [
        _sample(i, 50.0, error=ErrorClass.THROTTLED if i % 5 == 0 else None) for i in range(40)
    ]
    stage = _stage(tmp_path, scenario, samples)
    assert stage.reasons == ["throttle rate 20.0% > 5.0%"]
