"""Synthetic prompt text (loadgen/plan/synthetic.py): made to a token count, by seed."""

from __future__ import annotations

import math
import re

import pytest

from loadgen.plan.synthetic import (
    WORDS,
    CharsPerToken,
    TiktokenCounter,
    calibrated_counter,
    make_prompt,
    output_instruction,
    tokenizer_counter,
)


@pytest.mark.parametrize("tokens", [1, 7, 300, 2000, 12_345])
@pytest.mark.parametrize("ratio", [4.0, 3.3, 4.6])
def test_a_counter_by_characters_is_landed_on_exactly(tokens: int, ratio: float) -> None:
    counter = CharsPerToken(ratio)
    text = make_prompt(tokens, seed=3, tokens=counter, instruction=output_instruction(200))
    assert counter.count(text) == tokens


def test_an_overhead_is_left_for_the_server() -> None:
    counter = CharsPerToken(4.0, overhead_tokens=12)
    text = make_prompt(500, seed=1, tokens=counter)
    assert counter.count(text) == 500
    assert math.ceil(len(text) / 4) == 500 - 12


def test_the_same_seed_makes_the_same_text_and_another_seed_another() -> None:
    counter = CharsPerToken()
    first = make_prompt(800, seed=5, tokens=counter)
    assert make_prompt(800, seed=5, tokens=counter) == first
    assert make_prompt(800, seed=6, tokens=counter) != first


def test_the_text_is_words_of_the_list() -> None:
    text = make_prompt(400, seed=2, tokens=CharsPerToken())
    words = [word.strip(".") for word in text.split()]
    # The last word may be cut by the count.
    assert all(word in WORDS for word in words[:-1])


def test_a_shared_prefix_starts_every_prompt_alike() -> None:
    counter = CharsPerToken()
    prompts = [
        make_prompt(1000, seed=seed, tokens=counter, shared_prefix_tokens=300) for seed in range(3)
    ]
    prefix = prompts[0][: 300 * 4]
    assert all(p.startswith(prefix) for p in prompts)
    assert len({p[300 * 4 :] for p in prompts}) == 3  # what follows it differs
    other = make_prompt(1000, seed=0, tokens=counter, shared_prefix_tokens=300, prefix_seed=9)
    assert not other.startswith(prefix)


def test_the_instruction_follows_the_prefix() -> None:
    instruction = output_instruction(300)
    text = make_prompt(
        1000, seed=1, tokens=CharsPerToken(), shared_prefix_tokens=50, instruction=instruction
    )
    assert text.index(instruction) <= 50 * 4 + 2
    assert "about 225 words" in instruction  # 300 tokens at 0.75 words a token


def test_a_count_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        make_prompt(0, seed=1, tokens=CharsPerToken())


def test_two_calibration_points_give_the_ratio_and_the_overhead() -> None:
    def server(chars: int) -> int:  # 3.5 characters a token and 9 tokens of template
        return 9 + math.ceil(chars / 3.5)

    counter = calibrated_counter((800, server(800)), (4000, server(4000)))
    assert counter.method == "calibrated"
    assert counter.chars_per_token == pytest.approx(3.5, rel=0.01)
    assert counter.overhead_tokens == 9
    text = make_prompt(2000, seed=4, tokens=counter)
    assert abs(server(len(text)) - 2000) <= 2


def test_one_calibration_point_gives_a_ratio_through_zero() -> None:
    counter = calibrated_counter((4000, 1000))
    assert (counter.chars_per_token, counter.overhead_tokens) == (4.0, 0)


def test_families_without_a_published_tokenizer_get_none() -> None:
    for model in ("anthropic.claude-3-5-haiku-20241022-v1:0", "amazon.nova-pro-v1:0", "llama3"):
        assert tokenizer_counter(model) is None


class WordEncoding:
    """A stand-in for a tiktoken Encoding (not installed in the tests): one token a word, with
    the space before it, so that decoding the first n tokens gives the text's start back."""

    def encode_ordinary(self, text: str) -> list[int]:
        self.pieces = re.findall(r"\s*\S+", text)
        return list(range(len(self.pieces)))

    def decode(self, ids: list[int]) -> str:
        return "".join(self.pieces[i] for i in ids)


def test_a_tokenizer_counter_lands_on_the_count_with_the_servers_overhead() -> None:
    counter = TiktokenCounter(WordEncoding()).with_overhead(6)
    assert counter.method == "tokenizer:tiktoken"
    text = make_prompt(300, seed=2, tokens=counter, instruction=output_instruction(50))
    assert counter.count(text) == 300
    assert len(text.split()) == 300 - 6
