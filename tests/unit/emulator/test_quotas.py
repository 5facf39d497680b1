"""The emulator's quotas by AWS's rules (docs/quotas.md), in virtual time: AWS's own worked
figures reproduced, settlement that takes as well as gives back, the pools, tokens per day, and
the concurrency at which a TPM quota starts throttling."""

from __future__ import annotations

import math

import pytest

from loadgen.emulator import EmulatorConfig
from loadgen.emulator.profiles import Quota, base_model_id, quota_pool
from loadgen.emulator.quotas import DAY_S, QuotaGate, day_bucket, reservation, settlement

CLAUDE_37 = "anthropic.claude-3-7-sonnet-20250219-v1:0"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _admitted_at_once(gate: QuotaGate, reserved: int, offered: int) -> int:
    """How many of `offered` simultaneous requests (none ends meanwhile) get in."""
    return sum(gate.admit(reserved) is None for _ in range(offered))


def test_aws_sample_reserves_input_plus_max_tokens_and_settles_with_burndown() -> None:
    # aws-samples/sample-quota-dashboard-for-amazon-bedrock, README "Why Throttling Occurs":
    # 1,000 input tokens, max_tokens 4,000: "Reserved at start: 5,000 tokens (1,000 + 4,000)";
    # 100 output tokens; "3,500 tokens were temporarily held but not consumed" (5x burndown).
    reserved = reservation(input_tokens=1_000, max_tokens=4_000)
    used = settlement(input_tokens=1_000, output_tokens=100, output_burndown=5)
    assert reserved == 5_000
    assert reserved - used == 3_500


@pytest.mark.parametrize(
    ("input_tokens", "output_tokens", "consumed"),
    [(10, 750, 3_760), (2_005, 200, 3_005), (6, 12, 66)],
)
def test_aws_community_examples_of_claude_4_burndown(
    input_tokens: int, output_tokens: int, consumed: int
) -> None:
    # "Why Claude 4 API Hits Rate Limits: Token Burndown Explained" (AWS, community.aws): input
    # counts once, output five times: 10 + (750 x 5) = 3,760, and so on.
    assert settlement(input_tokens, output_tokens, output_burndown=5) == consumed


def test_aws_community_example_of_a_minute_spent_by_output() -> None:
    # Same article: with 100,000 TPM, 10,000 output tokens burn 50,000 and leave 50,000;
    # 20,000 burn all of it, and the next request waits for the refill.
    clock = Clock()
    gate = QuotaGate(Quota(tpm=100_000, output_burndown=5), clock)
    assert gate.admit(0) is None
    gate.settle(0, settlement(0, 10_000, 5))
    assert gate.tokens is not None and gate.tokens.level == 50_000
    gate.settle(0, settlement(0, 10_000, 5))
    assert gate.tokens.level == 0 and gate.admit(1) == "tpm"


@pytest.mark.parametrize(("max_tokens", "concurrent"), [(1_000, 1_333), (64_000, 31)])
def test_aws_toolkit_concurrency_from_the_reservation(max_tokens: int, concurrent: int) -> None:
    # aws/agent-toolkit-for-aws, amazon-bedrock/references/quota-health.md (Claude Sonnet,
    # 2M TPM): "maxTokens=1000, 500 input tokens: reserves 1,500 -> ~1,333 concurrent
    # requests"; "maxTokens unset (defaults to 64K): reserves ~64,500 -> ~31".
    gate = QuotaGate(Quota(tpm=2_000_000, output_burndown=5), Clock())
    reserved = reservation(500, max_tokens)
    assert _admitted_at_once(gate, reserved, 2 * concurrent) == concurrent


def test_settlement_takes_more_than_was_reserved_when_output_burns_down() -> None:
    clock = Clock()
    gate = QuotaGate(Quota(tpm=6_000, tpd=1_000_000, output_burndown=5), clock)
    reserved = reservation(100, 200)  # 300
    assert gate.admit(reserved) is None
    gate.settle(reserved, gate.usage(100, 200))  # 100 + 5 x 200 = 1,100: 800 more
    assert gate.tokens is not None and gate.tokens.level == 6_000 - 1_100
    assert gate.day is not None and gate.day.level == 1_000_000 - 1_100
    assert gate.stats()["reserved_tokens"] == 300 and gate.stats()["settled_tokens"] == 1_100


def test_cache_reads_never_count_and_cache_writes_count_at_both_ends() -> None:
    assert reservation(1_000, 500, cache_write_tokens=200) == 1_700
    assert settlement(1_000, 100, 5, cache_write_tokens=200) == 1_700
    # A cache read has no argument to pass: neither end takes one.
    assert reservation(1_000, 500) == 1_500


def test_tokens_per_day_are_shared_by_the_pools_of_a_model() -> None:
    clock = Clock()
    quota = Quota(tpm=10_000, tpd=25_000)
    day = day_bucket(quota, clock())
    regional = QuotaGate(quota.for_pool("in_region"), clock, day)
    geographic = QuotaGate(quota.for_pool("cross_region"), clock, day)
    assert regional.admit(10_000) is None and geographic.admit(10_000) is None
    assert regional.admit(10_000) == "tpm"  # this pool's minute is spent
    clock.now = 60.0  # a minute later both TPM buckets are full again, the day is not
    assert geographic.admit(10_000) == "tpd" and regional.throttled["tpm"] == 1
    assert geographic.throttled == {"rpm": 0, "tpm": 0, "tpd": 1}
    clock.now = 60.0 + 0.2 * DAY_S  # a fifth of a day refills 5,000 tokens
    assert geographic.admit(10_000) is None


def test_model_ids_draw_on_their_own_pool_with_its_own_numbers() -> None:
    assert quota_pool(CLAUDE_37) == "in_region"
    assert quota_pool(f"us.{CLAUDE_37}") == quota_pool(f"eu.{CLAUDE_37}") == "cross_region"
    assert quota_pool(f"global.{CLAUDE_37}") == "global"
    arn = f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.{CLAUDE_37}"
    assert quota_pool(arn) == "global" and base_model_id(arn) == CLAUDE_37
    config = EmulatorConfig.model_validate(
        {
            "profiles": {
                "m": {
                    "quota": {
                        "tpm": 1_000,
                        "rpm": 5,
                        "in_region": {"tpm": 500},
                        "global": {"tpm": 2_000, "rpm": 50},
                    }
                }
            }
        }
    )
    profile = config.profile_for("global.m")
    limits = {
        pool: (quota.tpm, quota.rpm)
        for pool in ("in_region", "cross_region", "global")
        if (quota := config.quota_for(profile, pool)) is not None  # type: ignore[arg-type]
    }
    assert limits == {"in_region": (500, 5), "cross_region": (1_000, 5), "global": (2_000, 50)}


def test_builtin_profiles_follow_aws_rules() -> None:
    builtin = EmulatorConfig.builtin()
    for model_id, profile in builtin.profiles.items():
        for pool in ("in_region", "cross_region", "global"):
            quota = builtin.quota_for(profile, pool)  # type: ignore[arg-type]
            assert quota is not None and quota.tpm is not None
            assert quota.rpm is None  # AWS's bedrock-runtime quota page lists no RPM
            assert quota.tpd == builtin.quota_for(profile, "cross_region").tpm * 24 * 60  # type: ignore[union-attr]
        burndown = profile.quota.output_burndown
        # Claude 3.7 Sonnet and every Claude 4.x (loadgen/cost/burndown.yaml).
        later_claude = "claude-3-7" in model_id or any(
            f"claude-{size}-4" in model_id for size in ("sonnet", "opus", "haiku")
        )
        assert burndown == (5 if later_claude else 1), model_id


def test_a_tpm_quota_throttles_at_the_concurrency_aws_rule_predicts() -> None:
    # The built-in Claude 3.7 Sonnet profile (5x burndown) with a small TPM: every request
    # starting at once reserves input + max_tokens, so the quota holds tpm // that many; the
    # emulator's old rule (max_tokens x burndown) held five times fewer.
    builtin = EmulatorConfig.builtin()
    profile = builtin.profiles[CLAUDE_37]
    quota = builtin.quota_for(profile, "cross_region")
    assert quota is not None and quota.output_burndown == 5
    gate = QuotaGate(quota.model_copy(update={"tpm": 100_000}), Clock())
    input_tokens, max_tokens = 1_000, 4_000
    predicted = 100_000 // (input_tokens + max_tokens)
    admitted = _admitted_at_once(gate, gate.reservation(input_tokens, max_tokens), 3 * predicted)
    assert math.isclose(admitted, predicted, rel_tol=0.1)
    old_rule = 100_000 // (input_tokens + 5 * max_tokens)
    assert admitted >= 4 * old_rule
