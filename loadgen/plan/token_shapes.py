"""Token counts drawn from the distributions of `dataset.synthetic` (loadgen/config/
synthetic_spec.py). Pure and seeded: the same seed draws the same counts."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from loadgen.config.synthetic_spec import (
    MAX_INPUT_TOKENS,
    MAX_OUTPUT_TOKENS,
    FixedTokens,
    HistogramTokens,
    LognormalTokens,
    NormalTokens,
    SyntheticSpec,
    TokenDistribution,
    UniformTokens,
)

# z of the 99th percentile of the standard normal: a lognormal's sigma is ln(p99/median) / z.
Z_99 = 2.3263478740408408
# A normal draw below 1 is drawn again; after this many tries, 1.
_REDRAWS = 100


@dataclass(frozen=True, slots=True)
class TokenShape:
    """What one synthetic prompt asks: its input tokens and the output tokens it allows."""

    input_tokens: int
    output_tokens: int


def draw(distribution: TokenDistribution, rng: random.Random, limit: int) -> int:
    """One count from the distribution, at least 1 and at most `limit`."""
    match distribution:
        case FixedTokens():
            value = float(distribution.value)
        case UniformTokens():
            value = rng.randint(distribution.min, distribution.max)
        case NormalTokens():
            value = 0.0
            for _ in range(_REDRAWS):
                value = rng.gauss(distribution.mean, distribution.stddev)
                if value >= 0.5:  # rounds to 1 or more
                    break
        case LognormalTokens():
            sigma = math.log(distribution.p99 / distribution.median) / Z_99
            value = rng.lognormvariate(math.log(distribution.median), sigma)
        case HistogramTokens():
            value = rng.choices(distribution.values, weights=distribution.weights)[0]
    return min(limit, max(1, round(value)))


def token_shapes(spec: SyntheticSpec, seed: int) -> list[TokenShape]:
    """`spec.count` shapes, input and output drawn from their own streams (so that changing
    one distribution leaves the other's draws as they were)."""
    inputs = random.Random(f"input:{seed}")
    outputs = random.Random(f"output:{seed}")
    return [
        TokenShape(
            draw(spec.input, inputs, MAX_INPUT_TOKENS),
            draw(spec.output, outputs, MAX_OUTPUT_TOKENS),
        )
        for _ in range(spec.count)
    ]
