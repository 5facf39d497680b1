"""How a request's options change its plan: the plan drawn as for a plain request (plan.py,
from the emulator's seeded generator, in the same order), then everything the options add,
drawn from a generator of its own (seeded by the emulator's seed and the request's number), so
that a request with options never shifts the draws of the requests after it.

- cache: the drawn TTFT stands for an uncached prompt; a cache read takes off its prefill
  (prompt_cache.ttft_after_cache_ns). inputTokens leaves out what was read or written.
- reasoning: a reasoning block of drawn length before the text, paced at the profile's ITL.
- tools: a toolUse block after the text (or alone, for toolChoice any/tool), stop reason
  tool_use.
- guardrail: an intervention keeps the first deltas, ends with the blocked message.
- service tier: TTFT and every gap x the tier's speed (tiers.py).
"""

from __future__ import annotations

import dataclasses
import itertools
import random

from loadgen.emulator.guardrail import BLOCKED_MESSAGE, draw_guardrail
from loadgen.emulator.plan import DeltaKind, ParsedRequest, ResponsePlan, StopReason
from loadgen.emulator.profiles import Profile
from loadgen.emulator.prompt_cache import CacheUsage, ttft_after_cache_ns
from loadgen.emulator.reasoning import draw_reasoning_tokens, reasoning_deltas, signature
from loadgen.emulator.text import token_count
from loadgen.emulator.tiers import speed_factor
from loadgen.emulator.tool_use import draw_tool_call


def option_rng(seed: int, request_number: int) -> random.Random:
    """The generator of one request's option draws: same seed and arrival order, same draws."""
    return random.Random(f"loadgen-emulator-options:{seed}:{request_number}")


def apply_options(
    plan: ResponsePlan,
    request: ParsedRequest,
    profile: Profile,
    rng: random.Random,
    cache: CacheUsage | None = None,
) -> ResponsePlan:
    options = request.options
    reasoning: list[str] = []
    if options.reasoning is not None:
        tokens = draw_reasoning_tokens(
            options.reasoning,
            profile.reasoning_tokens,
            profile.reasoning_tokens_jitter,
            rng,
            request.max_tokens,
        )
        reasoning = reasoning_deltas(tokens, profile.tokens_per_delta)
    texts = list(plan.texts)
    stop: StopReason = plan.stop_reason
    tool = None
    if stop != "max_tokens":
        tool = draw_tool_call(options, profile.tool_use_rate, rng, plan.request_id)
    if tool is not None:
        stop = "tool_use"
        if tool.only:
            texts = []
    guardrail = None
    if options.guardrail is not None:
        guardrail = draw_guardrail(
            options.guardrail, profile.guardrail_intervention_rate, len(texts), rng
        )
        if guardrail.intervened:
            texts = [*texts[: guardrail.kept_deltas], BLOCKED_MESSAGE]
            tool, stop = None, "guardrail_intervened"
    tool_deltas = len(tool.deltas()) if tool is not None else 0
    kinds = _kinds(("reasoning", len(reasoning)), ("text", len(texts)), ("tool", tool_deltas))
    gaps = _gaps(kinds, plan, profile, rng)
    ttft = plan.ttft_ns
    if cache is not None and cache.read_tokens:
        stall = round(profile.faults.stall_ms * 1_000_000) if plan.fault == "stall" else 0
        ttft = stall + ttft_after_cache_ns(
            ttft - stall,
            cache.read_tokens,
            profile.prefill_ms_per_1k_tokens,
            profile.cache_ttft_floor,
        )
    factor = speed_factor(options.service_tier, profile.priority_speed, profile.flex_speed)
    if factor != 1.0:
        ttft = round(ttft * factor)
        gaps = [round(gap * factor) for gap in gaps]
    output = token_count(reasoning) + token_count(texts)
    output += tool.tokens if tool is not None else 0
    cached = (cache.read_tokens + cache.write_tokens) if cache is not None else 0
    return dataclasses.replace(
        plan,
        options=True,
        input_tokens=max(0, plan.input_tokens - cached),
        output_tokens=output,
        stop_reason=stop,
        texts=texts,
        ttft_ns=ttft,
        gaps_ns=gaps,
        reasoning_texts=tuple(reasoning),
        signature=signature(plan.request_id) if reasoning else "",
        tool=tool,
        cache=cache if request.options.cache_points else None,
        service_tier=options.service_tier,
        guardrail=guardrail,
    )


def _kinds(*runs: tuple[DeltaKind, int]) -> list[DeltaKind]:
    return [kind for kind, count in runs for _ in range(count)]


def _gaps(
    kinds: list[DeltaKind], plan: ResponsePlan, profile: Profile, rng: random.Random
) -> list[int]:
    """One gap before each delta but the first: between two text deltas the plan's own
    (drawn as for a plain request), any other from this request's option generator."""
    text_gaps = iter(plan.gaps_ns)
    trickle = profile.faults.trickle_factor if plan.fault == "slow_trickle" else 1.0
    gaps: list[int] = []
    for before, kind in itertools.pairwise(kinds):
        gap = next(text_gaps, None) if before == kind == "text" else None
        if gap is None:
            gap = round(profile.draw_itl_ns(rng) * trickle)
        gaps.append(gap)
    return gaps
