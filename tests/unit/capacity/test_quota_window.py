"""A sweep stage judged on whole quota windows: its rate projected per minute against the
quota it knows, whatever the stage's length; the projection checked against the emulator's
own token bucket in virtual time, over many minutes."""

from __future__ import annotations

import heapq
import json
from pathlib import Path
from typing import Any, cast

import pytest

from loadgen.capacity.quota_window import (
    LATENCY_ONLY,
    PROJECTED,
    QUOTA_UNKNOWN_SHORT,
    WHOLE_MINUTE,
    KnownQuota,
    StageQuotaUse,
    judge_window,
    quota_allowed_rps,
)
from loadgen.capacity.stage import MEETS_SLOS, QUOTA_BOUND, StageResult, assess_stage
from loadgen.config.scenario import Scenario
from loadgen.config.thresholds import evaluate, report_section
from loadgen.core.sample import LineFormat
from loadgen.emulator.profiles import Quota
from loadgen.emulator.quotas import QuotaGate
from loadgen.record.quota_usage import QuotaUsage
from loadgen.report.schema import Report
from tests.conftest import ScenarioFactory
from tests.factories import make_report, make_sample

# A request that reserves input + max_tokens = 800 and settles input + output = 500.
RESERVED, SETTLED, IN_FLIGHT_S = 800.0, 500.0, 1.0
TPM = 60_000
ALLOWED_RPS = TPM / 60 / SETTLED  # what a steady rate may settle: 2 req/s
QUOTA = KnownQuota(tpm=TPM, source="scenario")


def _use(
    rate: float, *, duration_s: float = 20.0, in_flight_s: float = IN_FLIGHT_S
) -> StageQuotaUse:
    return StageQuotaUse(rate, duration_s, RESERVED, SETTLED, in_flight_s)


def test_a_short_stage_at_twice_the_quota_rate_is_quota_bound() -> None:
    judged = judge_window(_use(2 * ALLOWED_RPS), QUOTA)
    assert judged.rule == PROJECTED and judged.quota_bound
    assert judged.projected_settled_tpm == pytest.approx(2 * TPM)
    assert judged.reasons == [
        f"at 4 req/s it settles {2 * TPM:,} tokens a minute (500 a request) > TPM quota {TPM:,}"
    ]


def test_a_short_stage_at_0_8_times_the_quota_rate_is_not() -> None:
    judged = judge_window(_use(0.8 * ALLOWED_RPS), QUOTA)
    assert judged.rule == PROJECTED and not judged.quota_bound and judged.note is None
    assert judged.projected_settled_tpm == pytest.approx(0.8 * TPM)
    # Its reservations take more than the quota a minute; settlement gives the rest back.
    reserved = judged.projected_reserved_tpm
    assert reserved is not None and reserved > TPM
    assert quota_allowed_rps(QUOTA, judged.use) == pytest.approx(ALLOWED_RPS)


def test_requests_in_flight_that_hold_more_than_the_quota_are_quota_bound() -> None:
    # Half the settled rate, but each request holds its 800 tokens for 100 s: 80,000 at once.
    judged = judge_window(_use(0.5 * ALLOWED_RPS, in_flight_s=100.0), QUOTA)
    assert judged.quota_bound and len(judged.reasons) == 1
    assert "requests in flight hold 80,000 reserved tokens at once" in judged.reasons[0]
    assert quota_allowed_rps(QUOTA, judged.use) == pytest.approx(TPM / (100.0 * RESERVED))


def test_an_rpm_quota_is_projected_on_requests() -> None:
    rpm = KnownQuota(rpm=120, source="emulator")
    assert not judge_window(_use(2.0), rpm).quota_bound
    over = judge_window(_use(2.5), rpm)
    assert over.reasons == ["at 2.5 req/s it sends 150 requests a minute > RPM quota 120"]


def test_without_a_quota_a_short_stage_is_judged_on_latency_and_says_so() -> None:
    unknown = KnownQuota()
    short = judge_window(_use(100.0, duration_s=20.0), unknown)
    assert short.rule == LATENCY_ONLY and not short.quota_bound
    assert short.note == QUOTA_UNKNOWN_SHORT
    assert "a stage shorter than a minute cannot show a per-minute quota" in QUOTA_UNKNOWN_SHORT
    long = judge_window(_use(100.0, duration_s=60.0), unknown)
    assert long.rule == WHOLE_MINUTE and not long.quota_bound


def _refused_share(rate: float, minutes: float, *, last_minutes: float) -> float:
    """Requests at `rate` (evenly spaced) against the emulator's own TPM bucket in virtual
    time, each reserving RESERVED, settling SETTLED after IN_FLIGHT_S: the share refused in
    the last `last_minutes`."""
    now = 0.0
    gate = QuotaGate(Quota(tpm=TPM), lambda: now)
    ends: list[float] = []
    count = round(rate * 60 * minutes)
    tail_from = count - round(rate * 60 * last_minutes)
    refused = 0
    for index in range(count):
        due = index / rate
        while ends and ends[0] <= due:
            now = heapq.heappop(ends)
            gate.settle(round(RESERVED), round(SETTLED))
        now = due
        if gate.admit(round(RESERVED)) is None:
            heapq.heappush(ends, due + IN_FLIGHT_S)
        elif index >= tail_from:
            refused += 1
    return refused / (count - tail_from)


def test_the_emulators_bucket_holds_the_rate_the_projection_allows_and_no_more() -> None:
    # 20 minutes: long past the minute's burst a fresh bucket holds.
    assert _refused_share(0.9 * ALLOWED_RPS, 20, last_minutes=5) == 0
    # 25 % over: once the burst is spent, about 1 - 1/1.25 = 20 % are refused.
    assert _refused_share(1.25 * ALLOWED_RPS, 20, last_minutes=5) == pytest.approx(0.2, abs=0.03)
    # The reservations alone would allow TPM / 60 / RESERVED = 1.25 req/s: 20 % over that is
    # still within what settlement allows, and nothing is refused.
    by_reservation = TPM / 60 / RESERVED
    assert judge_window(_use(1.2 * by_reservation), QUOTA).quota_bound is False
    assert _refused_share(1.2 * by_reservation, 20, last_minutes=5) == 0


def _stage(tmp_path: Path, scenario: Scenario, rate: float, quota: dict[str, Any]) -> StageResult:
    """A 20 s stage at `rate` that kept up, with the quota accounting the run's code does."""
    gap_us = round(1e6 / rate)
    samples = [
        make_sample(i, start_us=i * gap_us, input_tokens=300, output_tokens=200)
        for i in range(round(rate * 20))
    ]
    report = make_report(
        samples, load={"duration": 20.0}, target_rps=rate, scheduled_rps=rate, achieved_rps=rate
    )
    usage = QuotaUsage({"m": 500})  # max_tokens 500: 800 reserved, 500 settled a request
    for sample in samples:
        usage.add(sample)
    report["quota"] = usage.section()
    checks = [spec.parsed() for spec in scenario.thresholds]
    report["thresholds"] = report_section(evaluate(checks, report["models"])) if checks else None
    with (tmp_path / "samples.jsonl").open("w") as handle:
        for sample in samples:
            handle.write(json.dumps(sample.to_json_dict(LineFormat("run", 0))) + "\n")
    return assess_stage(
        cast(Report, report), "m", rate, tmp_path, scenario, quota, fresh_window="reset"
    )


def test_a_stage_over_its_quota_is_quota_bound_whatever_its_latency(
    tmp_path: Path, make_scenario: ScenarioFactory
) -> None:
    scenario = make_scenario(models=["m"], thresholds=["ttft.p95 < 10s"])
    quota = {"source": "scenario", "tpm": TPM, "rpm": None, "output_burndown": 1.0}
    over = _stage(tmp_path, scenario, 2 * ALLOWED_RPS, quota)
    assert not over.saturated and over.thresholds_passed  # fast, and every SLO passed
    assert over.quota_bound and not over.good and over.meets_slos is False
    assert over.verdict == QUOTA_BOUND and over.bound_by == "quota"
    assert over.verdict_text().startswith("quota-bound: at 4 req/s it settles 120,000 tokens")
    document = over.to_json()
    assert document["window_rule"] == PROJECTED and document["fresh_window"] == "reset"
    window = document["quota_window"]
    assert window["settled_per_request"] == SETTLED and window["reserved_per_request"] == RESERVED
    assert window["projected_settled_tpm"] == 2 * TPM
    assert window["quota"] == {"tpm": TPM, "rpm": None, "source": "scenario"}
    assert document["capacity"]["quota_tpm_share"] == 2.0  # read from the same settlement
    within = _stage(tmp_path, scenario, 0.8 * ALLOWED_RPS, quota)
    assert within.good and within.verdict == MEETS_SLOS and within.bound_by is None
    assert within.output_tokens_p99 == 200 and within.max_tokens == 500


def test_without_a_quota_a_short_stage_says_it_judged_latency_alone(
    tmp_path: Path, make_scenario: ScenarioFactory
) -> None:
    scenario = make_scenario(models=["m"])
    quota = {"source": None, "tpm": None, "rpm": None, "output_burndown": 1.0}
    stage = _stage(tmp_path, scenario, 4.0, quota)
    assert stage.good and stage.window_rule == LATENCY_ONLY
    assert stage.verdict_text() == f"kept up; no SLOs given; {QUOTA_UNKNOWN_SHORT}"
