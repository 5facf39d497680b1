"""`dataset.synthetic`: prompts made to a token shape instead of read from rows
(docs/scenario.md, "Synthetic prompts").

Each prompt's input and output token counts are drawn from a distribution: a fixed count, or
uniform, normal, lognormal (by median and p99) or an empirical histogram. The prompt text is
made by loadgen/plan/synthetic.py; what is drawn, by loadgen/plan/token_shapes.py.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from loadgen.config.base import StrictModel as _Strict

# A prompt of this many tokens is about 4 MiB of text: the limit on one dataset row.
MAX_INPUT_TOKENS = 1_000_000
MAX_OUTPUT_TOKENS = 200_000  # as inference.max_tokens
DEFAULT_PROMPT_COUNT = 1000


class FixedTokens(_Strict):
    distribution: Literal["fixed"] = "fixed"
    value: int = Field(ge=1)


class UniformTokens(_Strict):
    """Every count from min to max (both included) equally likely."""

    distribution: Literal["uniform"]
    min: int = Field(ge=1)
    max: int = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> UniformTokens:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) is below min ({self.min})")
        return self


class NormalTokens(_Strict):
    """Normal, rounded, and drawn again when below 1."""

    distribution: Literal["normal"]
    mean: float = Field(ge=1)
    stddev: float = Field(ge=0)


class LognormalTokens(_Strict):
    """Lognormal, given as its median and 99th percentile (what a team knows of its prompts):
    sigma = ln(p99 / median) / z(0.99)."""

    distribution: Literal["lognormal"]
    median: float = Field(ge=1)
    p99: float = Field(ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> LognormalTokens:
        if self.p99 < self.median:
            raise ValueError(f"p99 ({self.p99:g}) is below the median ({self.median:g})")
        return self


class HistogramTokens(_Strict):
    """An empirical distribution: each of `values` drawn with its weight (all equal without
    `weights`: then `values` may be the observed counts themselves)."""

    distribution: Literal["histogram"]
    values: list[Annotated[int, Field(ge=1)]] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _weights_match(self) -> HistogramTokens:
        if self.weights is None:
            return self
        if len(self.weights) != len(self.values):
            raise ValueError(
                f"weights has {len(self.weights)} entries and values {len(self.values)}; "
                "give one weight per value"
            )
        if not math.fsum(self.weights) > 0:
            raise ValueError("the weights add up to 0; give at least one a positive weight")
        return self


TokenDistribution = FixedTokens | UniformTokens | NormalTokens | LognormalTokens | HistogramTokens


def _count_as_fixed(value: Any) -> Any:
    """A bare count is a fixed distribution: `input: 2000`."""
    if isinstance(value, int) and not isinstance(value, bool):
        return {"distribution": "fixed", "value": value}
    if isinstance(value, dict) and "distribution" not in value and "value" in value:
        return {"distribution": "fixed", **value}
    return value


Distribution = Annotated[
    TokenDistribution,
    Field(discriminator="distribution"),
    BeforeValidator(_count_as_fixed),
]


def highest(distribution: TokenDistribution) -> float:
    """The largest count a distribution is meant to give, checked against the limits (normal:
    mean + 6 sd; lognormal: its p99). Draws beyond the limit are capped at it."""
    match distribution:
        case FixedTokens():
            return distribution.value
        case UniformTokens():
            return distribution.max
        case NormalTokens():
            return distribution.mean + 6 * distribution.stddev
        case LognormalTokens():
            return distribution.p99
        case HistogramTokens():
            return max(distribution.values)


class SyntheticSpec(_Strict):
    """Prompts of a token shape: `input` and `output` counts drawn per prompt."""

    input: Distribution = Field(description="input tokens per prompt: a count or a distribution")
    output: Distribution = Field(
        description="output tokens per request (its max_tokens): a count or a distribution"
    )
    shared_prefix: int = Field(
        0, ge=0, description="tokens at the start of every prompt that are the same text"
    )
    seed: int | None = Field(
        None, ge=0, lt=2**63, description="seed of the counts and texts (default: 0)"
    )
    count: int = Field(
        DEFAULT_PROMPT_COUNT,
        ge=1,
        le=100_000,
        description="distinct prompts, made before the run and used in turn",
    )
    ignore_eos: bool = Field(
        False,
        description="ask an OpenAI-compatible server to ignore end-of-sequence (vLLM, SGLang), "
        "so each response runs to its max_tokens",
    )

    @model_validator(mode="after")
    def _within_limits(self) -> SyntheticSpec:
        for name, distribution, limit in (
            ("input", self.input, MAX_INPUT_TOKENS),
            ("output", self.output, MAX_OUTPUT_TOKENS),
        ):
            if highest(distribution) > limit:
                raise ValueError(
                    f"{name}: counts up to {highest(distribution):,.0f} tokens, over the "
                    f"limit of {limit:,}; lower it"
                )
        return self
