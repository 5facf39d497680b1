"""Every stop reason of the service model's StopReason enum the emulator makes from a
profile's rates (stop_reasons.py): drawn apart from the plan, ending the answer early."""

from __future__ import annotations

import random

import pytest

from loadgen.emulator.plan import ParsedRequest, ResponsePlan, draw_plan
from loadgen.emulator.profiles import Profile, StopRates
from loadgen.emulator.stop_reasons import stop_sequences, with_stop_outcome
from loadgen.emulator.text import token_count


def _plan(output_tokens: int = 40, max_tokens: int | None = None) -> ResponsePlan:
    profile = Profile(output_tokens=output_tokens, tokens_per_delta=2, itl_ms=5)
    request = ParsedRequest("m", "hello", 2, max_tokens)
    return draw_plan(request, profile, random.Random(1), "id")


@pytest.mark.parametrize(
    "reason", ["stop_sequence", "content_filtered", "model_context_window_exceeded"]
)
def test_a_rate_of_one_always_ends_early_with_its_reason(reason: str) -> None:
    rates = StopRates.model_validate({reason: 1.0})
    rng = random.Random(5)
    full = _plan()
    shares = set()
    for _ in range(30):
        plan = with_stop_outcome(full, rates, rng, has_stop_sequences=True)
        assert plan.stop_reason == reason
        assert 1 <= len(plan.texts) <= len(full.texts)
        assert plan.texts == full.texts[: len(plan.texts)]
        assert len(plan.gaps_ns) == len(plan.texts) - 1
        assert plan.output_tokens == token_count(plan.texts)
        shares.add(len(plan.texts))
    assert len(shares) > 3  # cut after a drawn share, not always at one place


def test_stop_sequence_needs_sequences_in_the_request() -> None:
    rates = StopRates(stop_sequence=1.0)
    plan = with_stop_outcome(_plan(), rates, random.Random(0), has_stop_sequences=False)
    assert plan == _plan()


def test_a_truncated_answer_keeps_its_max_tokens() -> None:
    capped = _plan(max_tokens=10)
    assert capped.stop_reason == "max_tokens"
    rates = StopRates(content_filtered=1.0)
    assert with_stop_outcome(capped, rates, random.Random(0), has_stop_sequences=False) == capped


def test_two_draws_a_request_whatever_the_rates() -> None:
    for rates in (StopRates(), StopRates(content_filtered=0.5), StopRates(stop_sequence=1.0)):
        rng = random.Random(9)
        with_stop_outcome(_plan(), rates, rng, has_stop_sequences=True)
        reference = random.Random(9)
        reference.random()
        reference.random()
        assert rng.random() == reference.random()


def test_each_rate_gets_its_own_share() -> None:
    rates = StopRates(content_filtered=0.2, model_context_window_exceeded=0.3)
    rng = random.Random(2)
    reasons = [
        with_stop_outcome(_plan(), rates, rng, has_stop_sequences=False).stop_reason
        for _ in range(4000)
    ]
    assert reasons.count("content_filtered") / 4000 == pytest.approx(0.2, abs=0.03)
    assert reasons.count("model_context_window_exceeded") / 4000 == pytest.approx(0.3, abs=0.03)


def test_rates_may_not_add_up_past_one() -> None:
    with pytest.raises(ValueError, match="add up"):
        StopRates(content_filtered=0.6, model_context_window_exceeded=0.6)


@pytest.mark.parametrize(
    ("api", "body", "expected"),
    [
        ("converse", {"inferenceConfig": {"stopSequences": ["END", ""]}}, ["END"]),
        ("invoke", {"stop_sequences": ["\n\nHuman:"]}, ["\n\nHuman:"]),
        ("invoke", {"inferenceConfig": {"stopSequences": ["x"]}}, ["x"]),
        ("openai-chat", {"stop": "STOP"}, ["STOP"]),
        ("converse", {"stop": "STOP"}, []),
        ("converse", {}, []),
    ],
)
def test_stop_sequences_per_api(api: str, body: dict[str, object], expected: list[str]) -> None:
    assert stop_sequences(api, body) == expected  # type: ignore[arg-type]
