"""loadgen's own quota accounting (loadgen/record/quota_usage.py), in virtual time: AWS's
worked figures, what a refused or failed request takes, minutes and the rolling peak, and the
minute a quota runs out, checked against the emulator's own buckets fed the same requests."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadgen.config.quota_spec import ModelQuota, quota_pool
from loadgen.core.sample import ErrorClass, Sample
from loadgen.cost.burndown import BurndownBook
from loadgen.emulator.profiles import Quota
from loadgen.emulator.quotas import QuotaGate
from loadgen.record.quota_usage import QuotaUsage, charge, merge_quota_sections
from tests.factories import make_sample

SONNET = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
S = 1_000_000  # µs


def _request(
    index: int, start_s: float, end_s: float, *, model: str = SONNET, **fields: object
) -> Sample:
    start = round(start_s * S)
    timings: dict[str, object] = {
        "send_us": start,
        "first_token_us": start + 1,
        "end_us": round(end_s * S),
    }
    return make_sample(index, model=model, start_us=start, **{**timings, **fields})


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_aws_sample_figures_per_request() -> None:
    # aws-samples/sample-quota-dashboard-for-amazon-bedrock README: 1,000 input tokens,
    # max_tokens 4,000 reserve 5,000; 100 output tokens at 5x leave 3,500 of it unused.
    burndown = BurndownBook.builtin().resolve(SONNET).rate
    assert burndown == 5
    part = charge(make_sample(input_tokens=1_000, output_tokens=100), 4_000, burndown)
    assert part is not None and part.usage_known
    assert (part.reserved, part.reserved - part.settled) == (5_000, 3_500)
    cached = make_sample(input_tokens=1_000, output_tokens=100, cache_read_tokens=9_000)
    assert charge(cached, 4_000, burndown) == part  # cache reads never count
    writing = make_sample(input_tokens=1_000, output_tokens=100, cache_write_tokens=200)
    written = charge(writing, 4_000, burndown)
    assert written is not None and (written.reserved, written.settled) == (5_200, 1_700)


def test_refused_and_failed_requests() -> None:
    refused = make_sample(error=ErrorClass.THROTTLED, first_token_us=None, input_tokens=None)
    assert charge(refused, 4_000, 5) is None
    assert charge(make_sample(error=ErrorClass.DROPPED), 4_000, 5) is None
    midway = make_sample(error=ErrorClass.THROTTLED, output_tokens=None)  # after output began
    failed = charge(midway, 4_000, 5)
    assert failed is not None and not failed.usage_known
    assert (failed.reserved, failed.settled) == (4_100, 100)


def test_minutes_peak_and_headroom() -> None:
    usage = QuotaUsage(
        {SONNET: 4_000}, {SONNET: ModelQuota(tpm=80_000, rpm=30)}, {SONNET: "scenario"}
    )
    # One request a second from 50 s to 69 s (input 100: 4,100 reserved each), 2 s long, 50
    # output tokens (settled 100 + 250); then two refused at 70 s; one more at 130 s.
    for index, second in enumerate(range(50, 70)):
        usage.add(_request(index, second, second + 2))
    for index in (100, 101):
        usage.add(_request(index, 70, 70, error=ErrorClass.THROTTLED, first_token_us=None))
    usage.add(_request(200, 130, 131))
    section = usage.section()["models"][SONNET]
    assert section["pool"] == "cross_region" and section["burndown"] == 5
    assert (section["requests"], section["throttled"]) == (21, 2)
    assert section["reserved_tokens"] == 21 * 4_100 and section["settled_tokens"] == 21 * 350
    minutes = {m["minute"]: m for m in section["minutes"]}
    assert [minutes[m]["requests"] for m in (0, 1, 2)] == [10, 10, 1]
    assert minutes[1]["throttled"] == 2
    assert minutes[0]["reserved_tokens"] == 10 * 4_100
    assert minutes[1]["settled_tokens"] == 12 * 350  # ended at 60..71 s (8 in minute 0)
    assert minutes[0]["peak_held_tokens"] == 2 * 4_100  # two in flight at once
    # The calendar minutes split the burst; any 60 s holds all 20 of it.
    assert section["peak_reserved_per_minute"] == 20 * 4_100
    assert section["peak_minute_start_s"] == 10 and section["peak_requests_per_minute"] == 20
    tpm = section["limits"]["tpm"]
    assert (tpm["peak"], tpm["headroom"], tpm["source"]) == (82_000, -2_000, "scenario")
    assert tpm["ran_out_minute"] is None  # settlements gave back enough as it went
    assert section["limits"]["rpm"]["headroom"] == 10 and "tpd" not in section["limits"]


def test_minute_by_minute_against_the_emulators_own_buckets() -> None:
    # The same requests through the emulator's quota gates (virtual time) and loadgen's
    # accounting, which were written apart (the emulator imports nothing of loadgen): each
    # request starts on a whole second and ends half a second later, its output growing with
    # time. The emulator with no binding quota admits them all and counts what they reserved
    # and settled, which loadgen must match minute by minute; the emulator with a 40,000 TPM
    # quota first refuses one in the minute loadgen says that quota runs out.
    unbound = QuotaGate(Quota(tpm=10**9, output_burndown=5), clock := Clock())
    bound = QuotaGate(Quota(tpm=40_000, output_burndown=5), clock)
    usage = QuotaUsage({SONNET: 3_000}, {SONNET: ModelQuota(tpm=40_000)}, {SONNET: "scenario"})
    first_refusal: float | None = None
    emulator_minutes: dict[int, list[int]] = {}
    for second in range(240):
        clock.now = float(second)
        reserved = unbound.reservation(input_tokens=500, max_tokens=3_000)
        assert unbound.admit(reserved) is None
        refused = first_refusal is None and bound.admit(reserved) is not None
        if refused:
            first_refusal = clock.now
        before = (unbound.reserved_tokens, unbound.settled_tokens)
        clock.now = second + 0.5
        used = unbound.usage(500, 60 + second // 2)
        unbound.settle(reserved, used)
        if first_refusal is None:
            bound.settle(reserved, used)
        totals = emulator_minutes.setdefault(second // 60, [0, 0])
        totals[0] += reserved  # the emulator's own counters moved by this much
        totals[1] += unbound.settled_tokens - before[1]
        usage.add(
            _request(second, second, second + 0.5, input_tokens=500, output_tokens=60 + second // 2)
        )
    section = usage.section()["models"][SONNET]
    assert first_refusal is not None and first_refusal >= 60, "meant to run out after minute 0"
    assert section["limits"]["tpm"]["ran_out_minute"] == int(first_refusal // 60)
    assert section["reserved_tokens"] == unbound.reserved_tokens
    assert section["settled_tokens"] == unbound.settled_tokens
    assert {
        m["minute"]: [m["reserved_tokens"], m["settled_tokens"]] for m in section["minutes"]
    } == (emulator_minutes)


def test_a_refusal_by_the_endpoint_is_when_its_quota_ran_out() -> None:
    usage = QuotaUsage({"m": 100}, {"m": ModelQuota(tpm=10**6, tpd=10**9)}, {"m": "account"})
    usage.add(_request(1, 10, 11, model="m"))
    refused = _request(2, 130, 130, model="m", error=ErrorClass.THROTTLED, first_token_us=None)
    message = "Too many tokens per day, please wait before trying again."
    usage.add(replace(refused, error_message=message))
    limits = usage.section()["models"]["m"]["limits"]
    assert limits["tpd"]["ran_out_minute"] == 2  # what the endpoint said
    assert limits["tpm"]["ran_out_minute"] is None  # far from this one


def test_tokens_per_day_and_a_minute_that_runs_out() -> None:
    usage = QuotaUsage({"m": 1_000}, {"m": ModelQuota(tpm=10_000, tpd=15_000)}, {"m": "account"})
    for index in range(12):  # 12 requests of 1,100 reserved, all in second 0
        usage.add(_request(index, 0.1, 0.2, model="m", input_tokens=100, output_tokens=900))
    for index in range(12, 24):  # and again 2 minutes later: the day runs out
        usage.add(_request(index, 120.1, 120.2, model="m", input_tokens=100, output_tokens=900))
    section = usage.section()["models"]["m"]
    assert section["pool"] == "in_region" and section["burndown_from"] is None
    assert section["limits"]["tpm"]["ran_out_minute"] == 0  # 13,200 at once > 10,000
    assert section["limits"]["tpd"]["ran_out_minute"] == 2
    assert section["limits"]["tpd"]["peak"] == 24 * 1_100


def test_workers_sections_merge_to_the_whole() -> None:
    whole = QuotaUsage({SONNET: 500}, {SONNET: ModelQuota(tpm=9_000)}, {SONNET: "scenario"})
    parts = [
        QuotaUsage({SONNET: 500}, {SONNET: ModelQuota(tpm=9_000)}, {SONNET: "scenario"})
        for _ in range(2)
    ]
    for index in range(40):
        sample = _request(index, index * 2.5, index * 2.5 + 3)
        whole.add(sample)
        parts[index % 2].add(sample)
    assert merge_quota_sections(part.section() for part in parts) == whole.section()


@pytest.mark.parametrize(
    ("model_id", "pool"),
    [
        ("amazon.nova-lite-v1:0", "in_region"),
        ("us.amazon.nova-lite-v1:0", "cross_region"),
        ("apac.amazon.nova-lite-v1:0", "cross_region"),
        ("global.anthropic.claude-sonnet-4-5-20250929-v1:0", "global"),
        ("arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0", "in_region"),
    ],
)
def test_pools(model_id: str, pool: str) -> None:
    assert quota_pool(model_id) == pool
