"""The prompts of a synthetic dataset: one text per drawn shape and per way of counting tokens.

Each model may count tokens its own way (a tokenizer, or a characters-per-token ratio measured
in preflight: loadgen/run/preflight.py), so the text made for a shape depends on the model's
counter. Texts are made once per counter and kept: `prepare` makes them all before the run, so
that the send path only looks them up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from loadgen.config.synthetic_spec import SyntheticSpec
from loadgen.plan.synthetic import (
    CharsPerToken,
    TokenCounter,
    TokenMethod,
    make_prompt,
    output_instruction,
    shared_prefix,
)
from loadgen.plan.token_shapes import TokenShape, token_shapes

# Row ids of synthetic prompts: "synthetic-<index>", the index into the drawn shapes.
ROW_PREFIX = "synthetic-"
# Seeds of the texts: the dataset's seed, then the row (count is at most 100,000 rows).
_ROW_SEEDS = 1_000_000


def synthetic_rows(spec: SyntheticSpec, seed: int) -> list[dict[str, int | str]]:
    """The dataset's rows: an id and the drawn shape, without text (made per counter)."""
    return [
        {
            "id": f"{ROW_PREFIX}{index}",
            "input_tokens": s.input_tokens,
            "output_tokens": s.output_tokens,
        }
        for index, s in enumerate(token_shapes(spec, seed))
    ]


class SyntheticTexts:
    """The text of each drawn shape, made to the token count of the model it is sent to."""

    def __init__(self, spec: SyntheticSpec, seed: int) -> None:
        self._spec = spec
        self._seed = seed
        self._shapes = token_shapes(spec, seed)
        self._default: TokenCounter = CharsPerToken()
        self._counters: dict[str, TokenCounter] = {}
        self._texts: dict[TokenCounter, list[str | None]] = {}
        self._prefix_chars: dict[TokenCounter, int] = {}

    @property
    def spec(self) -> SyntheticSpec:
        return self._spec

    def use_counters(self, counters: Mapping[str, TokenCounter]) -> None:
        """How each model counts tokens, from here on (models not named: the default)."""
        self._counters.update(counters)

    def counter(self, model: str | None) -> TokenCounter:
        return self._counters.get(model or "", self._default)

    def methods(self, models: Iterable[str]) -> dict[str, TokenMethod]:
        return {model: self.counter(model).method for model in models}

    def shape(self, index: int) -> TokenShape:
        return self._shapes[index]

    def prepare(self, models: Iterable[str]) -> None:
        """Make every text the models need now, before the run."""
        for counter in {self.counter(model) for model in models}:
            for index in range(len(self._shapes)):
                self.text(index, counter)

    def prefix_chars(self, counter: TokenCounter) -> int:
        """The length of the shared prefix of every text made with `counter` (0: none)."""
        found = self._prefix_chars.get(counter)
        if found is None:
            found = len(
                shared_prefix(self._spec.shared_prefix, tokens=counter, prefix_seed=self._seed)
            )
            self._prefix_chars[counter] = found
        return found

    def text(self, index: int, counter: TokenCounter) -> str:
        texts = self._texts.setdefault(counter, [None] * len(self._shapes))
        text = texts[index]
        if text is None:
            shape = self._shapes[index]
            text = make_prompt(
                shape.input_tokens,
                seed=self._seed * _ROW_SEEDS + index,
                tokens=counter,
                shared_prefix_tokens=self._spec.shared_prefix,
                prefix_seed=self._seed,
                instruction=output_instruction(shape.output_tokens),
            )
            texts[index] = text
        return text
