"""The text of a response: what each content delta carries.

This is the seam for generated text. Today it writes deterministic filler words, so tests can
check the text exactly; a generator that reads the prompt (e.g. an extractive summary of an
email) can replace it without touching timing or the wire encoders. It receives the prompt as
plain text, whichever API the request came through.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loadgen.emulator.profiles import Profile

# Pseudo-words for the generated text: deterministic, so tests can check it exactly.
WORDS = (
    "the", "quarterly", "report", "shows", "steady", "growth", "in", "revenue", "while",
    "costs", "remain", "under", "control", "and", "the", "team", "expects", "further",
    "gains", "next", "year", "after", "launch",
)  # fmt: skip


def filler_deltas(output_tokens: int, tokens_per_delta: int) -> list[str]:
    """tokens_per_delta words per delta, the last delta the rest; one word is one token."""
    per = tokens_per_delta
    count = math.ceil(output_tokens / per)
    return [
        "".join(
            f"{WORDS[i % len(WORDS)]} " for i in range(k * per, min(output_tokens, (k + 1) * per))
        )
        for k in range(count)
    ]


def response_text(
    prompt: str, output_tokens: int, profile: Profile, rng: random.Random
) -> list[str]:
    """The text of each content delta, for a response of output_tokens tokens.

    The number of deltas fixes the timing (one gap per delta), so a replacement must return
    ceil(output_tokens / profile.tokens_per_delta) strings. `prompt` is all the request's text
    (system and messages, joined by newlines); `rng` is the emulator's seeded generator."""
    return filler_deltas(output_tokens, profile.tokens_per_delta)
