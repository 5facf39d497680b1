"""How options change a plan: reasoning deltas before the text (bounded by the budget, scaled
by the effort), a tool call after it or alone, a text answer to a tool result, a guardrail's
intervention, the tiers' speed and a cache read's shorter TTFT; and the option draws never
shift the seeded draws of the requests after."""

from __future__ import annotations

import random

from loadgen.emulator.guardrail import BLOCKED_MESSAGE
from loadgen.emulator.options_plan import apply_options, option_rng
from loadgen.emulator.plan import ParsedRequest, ResponsePlan, draw_plan
from loadgen.emulator.profiles import Profile
from loadgen.emulator.prompt_cache import CacheUsage
from loadgen.emulator.request_options import (
    CachePoint,
    GuardrailAsk,
    Reasoning,
    RequestOptions,
    ToolSpec,
)

PROFILE = Profile(
    ttft_ms=300,
    ttft_jitter_ms=30,
    itl_ms=10,
    itl_jitter_ms=2,
    output_tokens=40,
    output_tokens_jitter=10,
    tokens_per_delta=2,
    reasoning_tokens=100,
    reasoning_tokens_jitter=20,
)
TOOL = ToolSpec(
    "track",
    {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "n": {"type": "integer"},
            "x": {"type": "boolean"},
        },
        "required": ["id", "n"],
    },
)


def _request(options: RequestOptions, max_tokens: int | None = None) -> ParsedRequest:
    return ParsedRequest("m", "Where is parcel 7?", 5, max_tokens, options=options)


def _plan(
    options: RequestOptions, seed: int = 1, profile: Profile = PROFILE, **kw: object
) -> ResponsePlan:
    request = _request(options, kw.pop("max_tokens", None))  # type: ignore[arg-type]
    plan = draw_plan(request, profile, random.Random(seed), "req-1")
    cache = kw.pop("cache", None)
    return apply_options(plan, request, profile, option_rng(seed, 1), cache)  # type: ignore[arg-type]


def test_reasoning_comes_first_and_counts_in_output() -> None:
    plan = _plan(RequestOptions(reasoning=Reasoning()))
    kinds = [kind for kind, _ in plan.pieces()]
    first_text = kinds.index("text")
    assert set(kinds[:first_text]) == {"reasoning"} and set(kinds[first_text:]) == {"text"}
    assert len(plan.gaps_ns) == len(kinds) - 1
    assert plan.output_tokens == plan.reasoning_tokens + sum(len(t.split()) for t in plan.texts)
    assert plan.reasoning_ns == sum(plan.gaps_ns[:first_text])
    assert plan.signature and plan.option_fields()["reasoning_tokens"] == plan.reasoning_tokens


def test_reasoning_is_bounded_by_the_budget_and_scaled_by_effort() -> None:
    assert _plan(RequestOptions(reasoning=Reasoning(budget_tokens=16))).reasoning_tokens == 16
    low = [
        _plan(RequestOptions(reasoning=Reasoning(effort="low")), seed).reasoning_tokens
        for seed in range(20)
    ]
    high = [
        _plan(RequestOptions(reasoning=Reasoning(effort="high")), seed).reasoning_tokens
        for seed in range(20)
    ]
    assert max(low) < min(high)


def test_tool_choice_any_calls_a_tool_alone() -> None:
    plan = _plan(RequestOptions(tools=(TOOL,), tool_choice="any"))
    assert plan.stop_reason == "tool_use" and plan.texts == []
    assert plan.tool is not None and plan.tool.name == "track"
    assert set(plan.tool.input) == {"id", "n"}
    assert isinstance(plan.tool.input["id"], str) and isinstance(plan.tool.input["n"], int)
    assert "".join(text for kind, text in plan.pieces() if kind == "tool") == plan.tool.input_json
    assert plan.output_tokens == plan.tool.tokens


def test_tool_choice_auto_calls_at_the_profiles_rate() -> None:
    always = PROFILE.model_copy(update={"tool_use_rate": 1.0})
    never = PROFILE.model_copy(update={"tool_use_rate": 0.0})
    auto = RequestOptions(tools=(TOOL,))
    called = _plan(auto, profile=always)
    assert called.tool is not None and called.texts and called.stop_reason == "tool_use"
    assert [k for k, _ in called.pieces()][-1] == "tool"
    assert _plan(auto, profile=never).tool is None
    rate = sum(_plan(auto, seed).tool is not None for seed in range(400)) / 400
    assert 0.4 < rate < 0.6  # the default rate, 0.5


def test_a_tool_result_is_answered_with_text() -> None:
    plan = _plan(RequestOptions(tools=(TOOL,), tool_choice="any", answers_tool_result=True))
    assert plan.tool is None and plan.texts and plan.stop_reason != "tool_use"


def test_a_guardrail_intervention_ends_the_answer() -> None:
    guarded = PROFILE.model_copy(update={"guardrail_intervention_rate": 1.0})
    plain = _plan(RequestOptions(service_tier="default"), profile=guarded)
    plan = _plan(RequestOptions(guardrail=GuardrailAsk("g", "1", True)), profile=guarded)
    assert plan.stop_reason == "guardrail_intervened"
    assert plan.texts[-1] == BLOCKED_MESSAGE
    assert plan.texts[:-1] == plain.texts[: len(plan.texts) - 1]
    assert len(plan.texts) - 1 <= len(plain.texts) // 2
    assert plan.option_fields()["guardrail_intervened"] is True
    passed = _plan(RequestOptions(guardrail=GuardrailAsk("g", "1", True)))
    assert passed.guardrail is not None and not passed.guardrail.intervened


def test_tiers_scale_ttft_and_gaps() -> None:
    default = _plan(RequestOptions(service_tier="default"))
    for tier, factor in (("priority", PROFILE.priority_speed), ("flex", PROFILE.flex_speed)):
        plan = _plan(RequestOptions(service_tier=tier))  # type: ignore[arg-type]
        assert plan.ttft_ns == round(default.ttft_ns * factor)
        assert plan.gaps_ns == [round(gap * factor) for gap in default.gaps_ns]
        assert plan.service_tier == tier
    assert _plan(RequestOptions(service_tier="reserved")).ttft_ns == default.ttft_ns


def test_a_cache_read_shortens_ttft_and_leaves_cached_tokens_out_of_input() -> None:
    point = CachePoint("d", 4)
    uncached = _plan(RequestOptions(cache_points=(point,)), cache=CacheUsage(0, 4, (point,)))
    cached = _plan(RequestOptions(cache_points=(point,)), cache=CacheUsage(4, 0, (point,)))
    assert (
        uncached.ttft_ns
        == draw_plan(_request(RequestOptions()), PROFILE, random.Random(1), "r").ttft_ns
    )
    assert cached.ttft_ns == uncached.ttft_ns - round(
        PROFILE.prefill_ms_per_1k_tokens * 4 / 1000 * 1e6
    )
    assert cached.input_tokens == uncached.input_tokens == 1
    assert (
        cached.usage["cacheReadInputTokens"] == 4 and uncached.usage["cacheWriteInputTokens"] == 4
    )


def test_option_draws_leave_the_seeded_draws_alone() -> None:
    """The same seeded generator gives the same plans for the requests after one with options
    as after one without: options draw from a generator of their own."""
    rng_plain, rng_options = random.Random(5), random.Random(5)
    options = RequestOptions(
        reasoning=Reasoning(), tools=(TOOL,), guardrail=GuardrailAsk("g", "1", False)
    )
    first_plain = draw_plan(_request(RequestOptions()), PROFILE, rng_plain, "a")
    request = _request(options)
    first = draw_plan(request, PROFILE, rng_options, "a")
    apply_options(first, request, PROFILE, option_rng(5, 1))
    assert first.texts == first_plain.texts and first.ttft_ns == first_plain.ttft_ns
    after_plain = draw_plan(_request(RequestOptions()), PROFILE, rng_plain, "b")
    after_options = draw_plan(_request(RequestOptions()), PROFILE, rng_options, "b")
    assert after_plain == after_options


def test_same_seed_and_request_number_same_option_draws() -> None:
    options = RequestOptions(reasoning=Reasoning(), tools=(TOOL,))
    assert _plan(options, seed=9) == _plan(options, seed=9)
    assert option_rng(9, 1).random() != option_rng(9, 2).random()
