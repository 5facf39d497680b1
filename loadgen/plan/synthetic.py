"""Synthetic prompts of a token shape: text made to land on a requested input-token count.

Pure and seeded: the same (input_tokens, seed, counter) always gives the same text. The text is
drawn from a fixed list of common English words (most are one token in every tokenizer we know),
so its length in tokens follows its length in characters closely.

How tokens are counted is a `TokenCounter`:
- `CharsPerToken`: a characters-per-token ratio, either the default (4.0, what English runs to
  and what the emulator counts) or calibrated from the server's own usage in preflight
  (`calibrated_counter`), with the tokens the server adds around every request's text (the chat
  template) as an intercept;
- `TiktokenCounter`: a published tokenizer (tiktoken, for the OpenAI and gpt-oss families), used
  only when the package is installed and its encoding loads (`tokenizer_counter`).

`make_prompt` makes the text; `output_instruction` asks for a response of about a length (the
request's max_tokens is what holds it there).
"""

from __future__ import annotations

import importlib
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

# English runs about four characters a token; the emulator counts ceil(characters / 4).
DEFAULT_CHARS_PER_TOKEN = 4.0

TokenMethod = Literal["tokenizer:tiktoken", "calibrated", "default"]


class TokenCounter(Protocol):
    """How the target model counts the input tokens of a request whose whole text is `text`."""

    @property
    def method(self) -> TokenMethod:
        """How report.json names it (`dataset.token_method`)."""
        ...

    def count(self, text: str) -> int:
        """The input tokens the server would report for a request of this text alone."""
        ...

    def cut(self, text: str, tokens: int) -> str:
        """The longest start of `text` that counts as at most `tokens` tokens."""
        ...


@dataclass(frozen=True, slots=True)
class CharsPerToken:
    """Tokens as characters / chars_per_token (rounded up), plus the tokens the server adds to
    every request (`overhead_tokens`: the chat template's role markers, measured by
    calibration; 0 by default)."""

    chars_per_token: float = DEFAULT_CHARS_PER_TOKEN
    overhead_tokens: int = 0
    method: TokenMethod = "default"

    # Rounded to 9 places before ceil and floor, so that 9200 / 4.6 is 2000 tokens, not 2001.
    def count(self, text: str) -> int:
        return self.overhead_tokens + math.ceil(round(len(text) / self.chars_per_token, 9))

    def cut(self, text: str, tokens: int) -> str:
        chars = math.floor(round(max(0, tokens - self.overhead_tokens) * self.chars_per_token, 9))
        return text[:chars]


class TiktokenCounter:
    """Tokens as a tiktoken encoding counts them, plus the tokens the server adds to every
    request (`overhead_tokens`, measured in preflight; 0 until then)."""

    method: TokenMethod = "tokenizer:tiktoken"

    def __init__(self, encoding: Any, overhead_tokens: int = 0) -> None:
        self._encoding = encoding
        self._encode: Callable[[str], list[int]] = encoding.encode_ordinary
        self._decode: Callable[[list[int]], str] = encoding.decode
        self.overhead_tokens = overhead_tokens

    def with_overhead(self, overhead_tokens: int) -> TiktokenCounter:
        return TiktokenCounter(self._encoding, overhead_tokens)

    def count(self, text: str) -> int:
        return self.overhead_tokens + len(self._encode(text))

    def cut(self, text: str, tokens: int) -> str:
        tokens -= self.overhead_tokens
        ids = self._encode(text)
        if len(ids) <= tokens:
            return text
        cut = self._decode(ids[: max(0, tokens)])
        # A token boundary inside a multi-byte character decodes to U+FFFD: drop it.
        return cut.rstrip("\ufffd")


# Model families whose tokenizer tiktoken publishes (o200k_base: GPT-4o, GPT-4.1, o-series,
# gpt-oss). Other families (Anthropic, Nova, Llama, Mistral on Bedrock) have no tokenizer in a
# well-kept pip package: they are calibrated from the server's usage instead.
_TIKTOKEN_FAMILIES = ("gpt-4o", "gpt-4.1", "gpt-oss", "gpt-5", "o1", "o3", "o4")


def tokenizer_counter(model_id: str) -> TiktokenCounter | None:
    """A tokenizer for the model's family, if one is published and installed (tiktoken, with
    its encoding file at hand); None otherwise, and the caller calibrates or uses the
    default."""
    name = model_id.rsplit("/", 1)[-1].split(":", 1)[0].lower()
    name = name.removeprefix("openai.")
    if not name.startswith(_TIKTOKEN_FAMILIES):
        return None
    try:
        tiktoken = importlib.import_module("tiktoken")  # optional: `pip install tiktoken`
    except ImportError:
        return None
    try:
        # The encoding file is fetched once and cached; offline without it, this fails.
        encoding = tiktoken.get_encoding("o200k_base")
    except Exception:  # any failure to load it means: no tokenizer
        return None
    return TiktokenCounter(encoding)


def calibrated_counter(
    short: tuple[int, int], long: tuple[int, int] | None = None
) -> CharsPerToken:
    """A counter fitted to the server's usage: each pair is (characters sent, input tokens
    the server reported). One pair gives a ratio through zero; two give the slope and the
    intercept (the tokens the server adds to every request)."""
    chars, tokens = short
    if long is None or long[0] == chars or long[1] == tokens:
        ratio = chars / max(1, tokens)
        return CharsPerToken(max(ratio, 0.5), 0, "calibrated")
    slope = (long[0] - chars) / (long[1] - tokens)
    if slope <= 0:
        return calibrated_counter(long)
    # Floor: a server rounds each count up, which adds half a token on average.
    overhead = max(0, math.floor(tokens - chars / slope + 1e-6))
    return CharsPerToken(max(slope, 0.5), overhead, "calibrated")


def make_prompt(
    input_tokens: int,
    *,
    seed: int,
    tokens: TokenCounter,
    shared_prefix_tokens: int = 0,
    prefix_seed: int = 0,
    instruction: str = "",
) -> str:
    """Text that `tokens` counts as `input_tokens` (as near as its counting allows: a counter
    by characters lands on it exactly).

    It is, in order: a shared prefix of `shared_prefix_tokens` (the same text for every prompt
    with the same prefix_seed, so a server's prompt cache can hold it), `instruction` (e.g.
    `output_instruction(...)`), then words drawn with `seed` up to the count. When the count is
    smaller than prefix and instruction, the text is cut there. Pure: the same arguments give
    the same text."""
    if input_tokens < 1:
        raise ValueError(f"input_tokens must be at least 1, not {input_tokens}")
    head = shared_prefix(shared_prefix_tokens, tokens=tokens, prefix_seed=prefix_seed)
    if instruction:
        head += instruction + "\n\n"
    rng = random.Random(f"body:{seed}")
    # Draw more words than the count needs and cut: most words are a token or less.
    words = _words(rng, input_tokens)
    text = head + words
    while tokens.count(text) < input_tokens:
        words += " " + _words(rng, input_tokens)
        text = head + words
    return tokens.cut(text, input_tokens)


def shared_prefix(shared_prefix_tokens: int, *, tokens: TokenCounter, prefix_seed: int) -> str:
    """The text every prompt of a synthetic dataset starts with ("" without one), its blank
    line included: a "prefix" cache point goes after it (Prompt.prefix_chars)."""
    if shared_prefix_tokens <= 0:
        return ""
    prefix_words = _words(random.Random(f"prefix:{prefix_seed}"), shared_prefix_tokens)
    return tokens.cut(prefix_words, shared_prefix_tokens) + "\n\n"


def output_instruction(output_tokens: int) -> str:
    """Asks for a response of about output_tokens tokens (in words: about 0.75 a token for
    English). The request's max_tokens caps it; the instruction keeps it from ending early."""
    words = max(1, round(output_tokens * 0.75))
    return (
        f"Write a continuation of the notes below of about {words} words. Keep writing until "
        "you reach that length; do not summarise or stop early."
    )


def _words(rng: random.Random, count: int) -> str:
    """`count` words drawn from WORDS, in sentences of 8 to 16 words."""
    out: list[str] = []
    left = count
    while left > 0:
        length = min(left, rng.randint(8, 16))
        sentence = rng.choices(WORDS, k=length)
        out.append(" ".join(sentence) + ".")
        left -= length
    return " ".join(out)


# Common lower-case English words: one token each in the GPT, Llama and Claude tokenizers, so
# counts by characters and by tokenizer agree closely. Fixed: changing it changes every prompt.
WORDS = (
    "about", "after", "again", "air", "also", "always", "answer", "area", "around", "ask",
    "away", "back", "because", "been", "before", "best", "better", "between", "big", "book",
    "both", "bring", "build", "call", "came", "can", "car", "care", "carry", "case", "change",
    "city", "close", "come", "could", "country", "course", "day", "did", "different", "does",
    "done", "door", "down", "during", "each", "early", "earth", "end", "enough", "even",
    "every", "eye", "face", "fact", "family", "far", "father", "feel", "few", "field", "find",
    "first", "follow", "food", "form", "found", "free", "friend", "from", "full", "game",
    "give", "good", "great", "group", "grow", "hand", "hard", "have", "head", "hear", "help",
    "here", "high", "hold", "home", "house", "idea", "important", "into", "keep", "kind",
    "know", "land", "large", "last", "late", "learn", "leave", "left", "less", "life", "light",
    "line", "list", "little", "live", "long", "look", "made", "make", "many", "mean", "might",
    "mind", "more", "most", "mother", "move", "much", "must", "name", "near", "need", "never",
    "next", "night", "number", "often", "old", "once", "only", "open", "order", "other",
    "over", "own", "page", "paper", "part", "people", "place", "plan", "play", "point",
    "power", "problem", "public", "question", "read", "real", "right", "river", "road",
    "room", "round", "same", "school", "second", "see", "seem", "set", "should", "show",
    "side", "small", "social", "some", "sound", "start", "state", "still", "story", "study",
    "such", "system", "table", "take", "team", "tell", "than", "that", "their", "them",
    "there", "these", "thing", "think", "those", "thought", "three", "through", "time",
    "today", "together", "too", "took", "toward", "tree", "true", "turn", "under", "until",
    "upon", "use", "very", "walk", "want", "water", "way", "week", "well", "went", "were",
    "what", "when", "where", "which", "while", "white", "whole", "why", "will", "with",
    "word", "work", "world", "would", "write", "year", "young",
)  # fmt: skip
