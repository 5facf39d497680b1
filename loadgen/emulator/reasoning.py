"""The reasoning block an answer starts with when a request asks for reasoning: its length
(drawn around the profile's `reasoning_tokens`, scaled by the effort asked, bounded by the
budget), its deltas (pseudo-words, one token each) and the signature that closes it."""

from __future__ import annotations

import hashlib
import random

from loadgen.emulator.request_options import Reasoning

# How an effort scales the profile's mean reasoning length.
EFFORT_SCALE = {"low": 0.5, "medium": 1.0, "high": 2.0}
# Words of the reasoning text: not the answer's words, so a client mixing the two shows it.
THINKING_WORDS = ("let", "me", "consider", "the", "question", "step", "by", "step", "first")


def draw_reasoning_tokens(
    asked: Reasoning, mean: int, jitter: int, rng: random.Random, max_tokens: int | None
) -> int:
    scaled = round(mean * EFFORT_SCALE.get(asked.effort or "medium", 1.0))
    drawn = scaled + (rng.randint(-jitter, jitter) if jitter else 0)
    for bound in (asked.budget_tokens, max_tokens):
        if bound is not None:
            drawn = min(drawn, bound)
    return max(1, drawn)


def reasoning_deltas(tokens: int, tokens_per_delta: int) -> list[str]:
    words = [f"{THINKING_WORDS[i % len(THINKING_WORDS)]} " for i in range(tokens)]
    return ["".join(words[k : k + tokens_per_delta]) for k in range(0, tokens, tokens_per_delta)]


def signature(request_id: str) -> str:
    """An opaque token that stands for the model's signature over its reasoning."""
    return hashlib.sha256(("reasoning:" + request_id).encode()).hexdigest()
