"""The text of a response: what each content delta carries.

Where the prompt holds an email (the email-summary scenario), the text is an extractive
summary of it (loadgen/emulator/summaries.py) whose faithfulness follows the profile's
`fidelity`, so emulated models differ in quality as well as speed. It is synthetic: sentences
copied from the email, never a language model's output. Any other prompt gets deterministic
filler words, so tests can check the text exactly. One whitespace-separated word is one token.
"""

from __future__ import annotations

import math
import random
import re

from loadgen.emulator.summaries import extractive_summary

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
    prompt: str, output_tokens: int, fidelity: float, tokens_per_delta: int, rng: random.Random
) -> list[str]:
    """The text of each content delta, for a response of at most output_tokens tokens.

    A summary may come out shorter than output_tokens: the caller counts the words it got
    (one gap per delta follows from the texts). `prompt` is all the request's text (system and
    messages, joined by newlines); fidelity and tokens_per_delta are the profile's; `rng` is
    the emulator's seeded generator."""
    summary = extractive_summary(prompt, output_tokens, fidelity, rng)
    # The summary's own cap counts headings and bullets differently: the drawn length rules.
    words = _WORD.findall(summary)[:output_tokens] if summary else []
    if not words:
        return filler_deltas(output_tokens, tokens_per_delta)
    per = tokens_per_delta
    return ["".join(words[k : k + per]) for k in range(0, len(words), per)]


def token_count(texts: list[str]) -> int:
    return sum(len(text.split()) for text in texts)


# A word with the whitespace after it, so that joined deltas give the summary back exactly.
_WORD = re.compile(r"\S+\s*")
