"""The stop reasons a profile's `stops` rates produce: stop_sequence, content_filtered and
model_context_window_exceeded, each ending a response that would have ended naturally after a
drawn share of its deltas, with its own messageStop.

The draws come from the emulator's outcome generator, two a request whatever the rates, never
from the plan's: with every rate at 0 (the default) a seed answers exactly as before, and
setting a rate changes only the responses it strikes.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace
from typing import Any

from loadgen.emulator.plan import ResponsePlan, StopReason
from loadgen.emulator.profiles import StopRates
from loadgen.emulator.text import token_count


def stop_sequences(api: str, body: dict[str, Any]) -> list[str]:
    """The stop sequences a request sends: Converse's and Nova's
    inferenceConfig.stopSequences, Anthropic's stop_sequences, OpenAI's stop."""
    config = body.get("inferenceConfig")
    found: Any = config.get("stopSequences") if isinstance(config, dict) else None
    if found is None:
        found = body.get("stop_sequences")
    if found is None and api == "openai-chat":
        found = body.get("stop")
    if isinstance(found, str):
        found = [found]
    return [item for item in found if isinstance(item, str) and item] if found else []


def with_stop_outcome(
    plan: ResponsePlan, rates: StopRates, rng: random.Random, *, has_stop_sequences: bool
) -> ResponsePlan:
    """The plan, or the plan cut short with another stop reason when a rate strikes."""
    point = rng.random()
    share = rng.random()
    if plan.stop_reason != "end_turn":
        return plan
    choices: tuple[tuple[StopReason, float], ...] = (
        ("stop_sequence", rates.stop_sequence if has_stop_sequences else 0.0),
        ("content_filtered", rates.content_filtered),
        ("model_context_window_exceeded", rates.model_context_window_exceeded),
    )
    running = 0.0
    for reason, rate in choices:
        running += rate
        if point < running:
            keep = max(1, math.ceil(len(plan.texts) * share))  # at least one delta
            texts = plan.texts[:keep]
            return replace(
                plan,
                texts=texts,
                gaps_ns=plan.gaps_ns[: keep - 1],
                output_tokens=token_count(texts),
                stop_reason=reason,
            )
    return plan
