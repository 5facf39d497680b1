"""What the emulator does for each model: timing, output length, faults.

A profile is a description, not a recording: every value is an input the harness is then
measured against. Random draws (jitter, lengths, faults) come from the emulator's one seeded
generator, so a run with the same seed and arrival order gets the same responses.
"""

from __future__ import annotations

import math
import random
from pathlib import Path
from typing import Annotated, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_PROFILES_PATH = Path(__file__).with_name("default_profiles.yaml")

# Inference profile ids put a geography in front of the model id (us.amazon.nova-lite-v1:0).
CROSS_REGION_PREFIXES = ("us-gov.", "us.", "eu.", "apac.", "global.")

FaultKind = Literal[
    "throttle",
    "throttle_midstream",
    "server_error",
    "unavailable",
    "model_stream_error",
    "cut_stream",
    "drop_connection",
    "bad_checksum",
    "stall",
]
# The fixed order faults are drawn in (the Literal's order); changing it changes what a seed
# produces.
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

Probability = Annotated[float, Field(ge=0.0, le=1.0)]

# Pseudo-words for the generated text: deterministic, so tests can check it exactly.
WORDS = (
    "the", "quarterly", "report", "shows", "steady", "growth", "in", "revenue", "while",
    "costs", "remain", "under", "control", "and", "the", "team", "expects", "further",
    "gains", "next", "year", "after", "launch",
)  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Faults(_Strict):
    """Probability of each fault per request. At most one fault hits a request: one uniform
    draw is compared with the running sum in FAULT_KINDS order, so each fault gets exactly its
    own probability (hence the sum must not exceed 1)."""

    throttle: Probability = 0.0
    throttle_midstream: Probability = 0.0
    server_error: Probability = 0.0
    unavailable: Probability = 0.0
    model_stream_error: Probability = 0.0
    cut_stream: Probability = 0.0
    drop_connection: Probability = 0.0
    bad_checksum: Probability = 0.0
    stall: Probability = 0.0
    stall_ms: float = Field(
        default=2000.0, ge=0.0, description="extra delay before the first token"
    )

    @model_validator(mode="after")
    def _at_most_one(self) -> Faults:
        total = sum(getattr(self, kind) for kind in FAULT_KINDS)
        if total > 1.0 + 1e-9:
            raise ValueError(f"fault probabilities add up to {total:g}; at most 1 is allowed")
        return self

    def draw(self, rng: random.Random) -> FaultKind | None:
        """Always one draw from rng, so whether faults are set does not shift later draws."""
        point = rng.random()
        running = 0.0
        for kind in FAULT_KINDS:
            running += getattr(self, kind)
            if point < running:
                return kind
        return None


class Profile(_Strict):
    ttft_ms: float = Field(default=300.0, ge=0.0)
    ttft_jitter_ms: float = Field(default=0.0, ge=0.0, description="std dev of a normal")
    itl_ms: float = Field(default=20.0, ge=0.0, description="gap between content deltas")
    itl_jitter_ms: float = Field(default=0.0, ge=0.0, description="std dev of a normal")
    output_tokens: int = Field(default=200, ge=1, description="mean output length")
    output_tokens_jitter: int = Field(default=0, ge=0, description="uniform +/- around the mean")
    tokens_per_delta: int = Field(default=1, ge=1)
    faults: Faults = Faults()
    description: str = ""

    def draw_output_tokens(self, rng: random.Random, max_tokens: int | None) -> tuple[int, str]:
        """(output tokens, stopReason): the drawn length, bounded by the request's maxTokens."""
        drawn = self.output_tokens
        if self.output_tokens_jitter:
            drawn += rng.randint(-self.output_tokens_jitter, self.output_tokens_jitter)
        drawn = max(1, drawn)
        if max_tokens is not None and drawn >= max_tokens:
            return max(1, max_tokens), "max_tokens"
        return drawn, "end_turn"

    def draw_ttft_ns(self, rng: random.Random) -> int:
        return _jittered_ns(rng, self.ttft_ms, self.ttft_jitter_ms)

    def draw_itl_ns(self, rng: random.Random) -> int:
        return _jittered_ns(rng, self.itl_ms, self.itl_jitter_ms)

    def deltas(self, output_tokens: int) -> list[str]:
        """The text of each contentBlockDelta: tokens_per_delta words, the last one the rest."""
        per = self.tokens_per_delta
        count = math.ceil(output_tokens / per)
        return [
            "".join(
                f"{WORDS[i % len(WORDS)]} "
                for i in range(k * per, min(output_tokens, (k + 1) * per))
            )
            for k in range(count)
        ]


def _jittered_ns(rng: random.Random, mean_ms: float, sd_ms: float) -> int:
    value = rng.gauss(mean_ms, sd_ms) if sd_ms else mean_ms
    return round(max(0.0, value) * 1_000_000)


class EmulatorConfig(_Strict):
    seed: int = 0
    default: Profile = Profile()
    profiles: dict[str, Profile] = {}

    def profile_for(self, model_id: str) -> Profile:
        """Exact id first, then the id without its cross-region prefix, then the default."""
        found = self.profiles.get(model_id)
        if found is not None:
            return found
        for prefix in CROSS_REGION_PREFIXES:
            if model_id.startswith(prefix):
                found = self.profiles.get(model_id.removeprefix(prefix))
                if found is not None:
                    return found
                break
        return self.default

    @classmethod
    def from_file(cls, path: str | Path) -> EmulatorConfig:
        """A YAML or JSON file (YAML is a superset of JSON, so one loader reads both)."""
        with Path(path).open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        return cls.model_validate(data or {})

    @classmethod
    def builtin(cls) -> EmulatorConfig:
        """The profiles shipped with the package: estimates of a few Bedrock models."""
        return cls.from_file(DEFAULT_PROFILES_PATH)
