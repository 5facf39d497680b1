"""What the emulator does for each model: timing, output length, faults, quotas, capacity.

A profile is a description, not a recording: every value is an input the harness is then
measured against. Random draws (jitter, lengths, faults) come from the emulator's one seeded
generator, so a run with the same seed and arrival order gets the same responses.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from loadgen.emulator.text import WORDS, filler_deltas

DEFAULT_PROFILES_PATH = Path(__file__).with_name("default_profiles.yaml")

# Inference profile ids put a geography in front of the model id (us.amazon.nova-lite-v1:0);
# global. ones route worldwide. us-gov. comes before us. so that the longer prefix wins.
GLOBAL_PREFIX = "global."
CROSS_REGION_PREFIXES = ("us-gov.", "us.", "eu.", "apac.", "jp.", "au.", "ca.", GLOBAL_PREFIX)

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
    "model_error",
    "slow_trickle",
    # Appended, never inserted: the draw walks this order, so kinds added at probability 0
    # leave every seed's draws as they were.
    "server_error_midstream",
    "unavailable_midstream",
    "validation_midstream",
    "model_timeout_midstream",
    "model_timeout",
    "model_not_ready",
    "quota_exceeded",
]
# The fixed order faults are drawn in (the Literal's order); changing it changes what a seed
# produces.
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)

Probability = Annotated[float, Field(ge=0.0, le=1.0)]

__all__ = [
    "WORDS",
    "Capacity",
    "EmulatorConfig",
    "Faults",
    "PoolLimits",
    "Profile",
    "Quota",
    "QuotaPool",
    "QuotaSettings",
    "StopRates",
]


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
    model_error: Probability = 0.0
    slow_trickle: Probability = 0.0
    server_error_midstream: Probability = 0.0
    unavailable_midstream: Probability = 0.0
    validation_midstream: Probability = 0.0
    model_timeout_midstream: Probability = 0.0
    model_timeout: Probability = 0.0
    model_not_ready: Probability = 0.0
    quota_exceeded: Probability = 0.0
    stall_ms: float = Field(
        default=2000.0, ge=0.0, description="extra delay before the first token"
    )
    trickle_factor: float = Field(
        default=5.0, ge=1.0, description="slow_trickle multiplies every gap by this"
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


class StopRates(_Strict):
    """How often a response that would end naturally (end_turn) ends for another of the
    reasons Bedrock's StopReason enum lists, cut short after a drawn share of its deltas.
    Drawn from the emulator's own outcome generator, not the plan's: setting them leaves every
    other draw of a seed as it was. stop_sequence applies only to requests that send stop
    sequences."""

    stop_sequence: Probability = 0.0
    content_filtered: Probability = 0.0
    model_context_window_exceeded: Probability = 0.0

    @model_validator(mode="after")
    def _at_most_one(self) -> StopRates:
        total = self.stop_sequence + self.content_filtered + self.model_context_window_exceeded
        if total > 1.0 + 1e-9:
            raise ValueError(f"stop rates add up to {total:g}; at most 1 is allowed")
        return self


QuotaPool = Literal["in_region", "cross_region", "global"]
QUOTA_POOLS: tuple[QuotaPool, ...] = get_args(QuotaPool)


def quota_pool(model_id: str) -> QuotaPool:
    """Which of a model's quota pools a model id draws on, as Bedrock keeps them apart: an
    in-Region (on-demand) model id, a geographic cross-Region inference profile (us., eu.,
    apac. ...) or a global one (global.)."""
    bare = model_id.rsplit("/", 1)[-1]  # an ARN names the id after its last slash
    if bare.startswith(GLOBAL_PREFIX):
        return "global"
    if bare.startswith(CROSS_REGION_PREFIXES):
        return "cross_region"
    return "in_region"


def base_model_id(model_id: str) -> str:
    """The model id without an ARN's path or an inference profile's prefix."""
    bare = model_id.rsplit("/", 1)[-1]
    for prefix in CROSS_REGION_PREFIXES:
        if bare.startswith(prefix):
            return bare.removeprefix(prefix)
    return bare


class PoolLimits(_Strict):
    """One pool's own per-minute quotas; a value left out is the profile's top-level one."""

    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)


class Quota(_Strict):
    """Bedrock's per-model quotas, by AWS's rules ("How tokens are counted in Amazon Bedrock",
    docs/quotas.md): tokens per minute and per day, and requests per minute only where a
    profile says so. A request reserves its input tokens + max tokens when it starts and
    settles to input + cache-write + output x `output_burndown` when it ends.

    `rpm` and `tpm` apply to every pool unless `in_region`, `cross_region` or `global` gives
    that pool its own; `tpd` is the model's, shared by its pools (AWS's "Model invocation max
    tokens per day" is per model and Region). Each is a token bucket that refills
    continuously: TPM and RPM hold at most `burst_s` seconds of refill (60: a full minute's
    quota may be spent at once), TPD a day's. None: no limit."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)
    tpd: int | None = Field(default=None, ge=1)
    burst_s: float = Field(default=60.0, gt=0.0)
    output_burndown: float = Field(
        default=1.0,
        ge=1.0,
        description="quota tokens each output token uses at settlement (5 for Claude 3.7 "
        "Sonnet and later Anthropic models, docs/quotas.md)",
    )
    in_region: PoolLimits | None = None
    cross_region: PoolLimits | None = None
    global_: PoolLimits | None = Field(default=None, alias="global")

    def for_pool(self, pool: QuotaPool) -> Quota:
        """The limits one pool is held to: its own where it has them, else the top-level
        ones; the pools themselves dropped."""
        own = {
            "in_region": self.in_region,
            "cross_region": self.cross_region,
            "global": self.global_,
        }[pool]
        update: dict[str, Any] = {"in_region": None, "cross_region": None, "global_": None}
        if own is not None:
            update.update(own.model_dump(exclude_none=True))
        return self.model_copy(update=update)

    @property
    def enforced(self) -> bool:
        return self.rpm is not None or self.tpm is not None or self.tpd is not None


class QuotaSettings(_Strict):
    """Quotas for every model at once: off altogether, or rpm/tpm/tpd/burst_s laid over each
    profile's own values (and over every pool's)."""

    enabled: bool = True
    rpm: int | None = Field(default=None, ge=1)
    tpm: int | None = Field(default=None, ge=1)
    tpd: int | None = Field(default=None, ge=1)
    burst_s: float | None = Field(default=None, gt=0.0)


class Capacity(_Strict):
    """A model's serving capacity: `slots` requests generate at once; the rest wait in a FIFO
    queue (the wait adds to their TTFT). Beyond `queue_limit` waiting requests, the emulator
    answers 503 ServiceUnavailableException. None: unlimited."""

    slots: int | None = Field(default=None, ge=1)
    queue_limit: int | None = Field(default=None, ge=0)


class Profile(_Strict):
    ttft_ms: float = Field(default=300.0, ge=0.0)
    ttft_jitter_ms: float = Field(default=0.0, ge=0.0, description="std dev of a normal")
    itl_ms: float = Field(default=20.0, ge=0.0, description="gap between content deltas")
    itl_jitter_ms: float = Field(default=0.0, ge=0.0, description="std dev of a normal")
    output_tokens: int = Field(default=200, ge=1, description="mean output length")
    output_tokens_jitter: int = Field(default=0, ge=0, description="uniform +/- around the mean")
    tokens_per_delta: int = Field(default=1, ge=1)
    default_max_tokens: int = Field(
        default=4096, ge=1, description="the output limit when the request sets none"
    )
    max_output_tokens: int | None = Field(
        default=None,
        ge=1,
        description="the model's largest maxTokens; above it a request is refused with 400 "
        "ValidationException, as Bedrock does (None: no limit checked)",
    )
    stops: StopRates = StopRates()
    fidelity: float = Field(
        default=1.0, ge=0.0, le=1.0, description="how faithful generated text is (1: best)"
    )
    # Request options (docs/emulator.md "Request options"); a request without them ignores these.
    prefill_ms_per_1k_tokens: float = Field(
        default=25.0, ge=0.0, description="TTFT a cache read saves per 1,000 cached tokens"
    )
    cache_ttft_floor: float = Field(
        default=0.3, ge=0.0, le=1.0, description="a cache read never cuts TTFT below this share"
    )
    cache_min_tokens: int = Field(
        default=0, ge=0, description="a cache point with a shorter prefix caches nothing"
    )
    reasoning_tokens: int = Field(default=400, ge=1, description="mean reasoning length")
    reasoning_tokens_jitter: int = Field(default=200, ge=0, description="uniform +/- around it")
    tool_use_rate: Probability = Field(
        default=0.5, description="share of tool-choice-auto answers that call a tool"
    )
    guardrail_intervention_rate: Probability = Field(
        default=0.05, description="share of guarded answers a guardrail stops"
    )
    priority_speed: float = Field(
        default=0.8, gt=0.0, description="priority tier: TTFT and gaps x this"
    )
    flex_speed: float = Field(default=1.5, gt=0.0, description="flex tier: TTFT and gaps x this")
    flex_shed_fraction: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="flex is refused once the queue holds this share of queue_limit",
    )
    priority_headroom: float = Field(
        default=0.25, ge=0.0, description="priority may queue this share beyond queue_limit"
    )
    faults: Faults = Faults()
    quota: Quota = Quota()
    capacity: Capacity = Capacity()
    latency_optimized: Profile | None = Field(
        default=None,
        description="the variant served for performanceConfig.latency=optimized; only the "
        "fields that differ need to be given, the rest come from this profile",
    )
    description: str = ""

    @model_validator(mode="before")
    @classmethod
    def _variant_inherits(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("latency_optimized"), dict):
            base = {key: value for key, value in data.items() if key != "latency_optimized"}
            variant = {**base, **data["latency_optimized"]}
            if isinstance(variant.get("latency_optimized"), dict):
                raise ValueError("a latency_optimized variant cannot have a variant of its own")
            return {**data, "latency_optimized": variant}
        return data

    def variant(self, latency_optimized: bool) -> Profile:
        """The latency-optimized variant when asked for and offered; else this profile (as
        Bedrock does when a model has no such variant: it serves standard latency)."""
        if latency_optimized and self.latency_optimized is not None:
            return self.latency_optimized
        return self

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
        """The filler text of each content delta: tokens_per_delta words, the last the rest."""
        return filler_deltas(output_tokens, self.tokens_per_delta)


def _jittered_ns(rng: random.Random, mean_ms: float, sd_ms: float) -> int:
    value = rng.gauss(mean_ms, sd_ms) if sd_ms else mean_ms
    return round(max(0.0, value) * 1_000_000)


class EmulatorConfig(_Strict):
    seed: int = 0
    default: Profile = Profile()
    profiles: dict[str, Profile] = {}
    quotas: QuotaSettings = QuotaSettings()
    capacity: Capacity | None = Field(
        default=None, description="laid over every profile's capacity when set"
    )
    strict_model_ids: bool = Field(
        default=False,
        description="an id with no profile of its own is refused (400 ValidationException "
        "'The provided model identifier is invalid.', as Bedrock answers) instead of being "
        "served by `default`",
    )

    def quota_for(self, profile: Profile, pool: QuotaPool = "in_region") -> Quota | None:
        """The quota one pool of a model is held to, with the global settings laid over (they
        win over the pools' own values too); None when off or when nothing is limited."""
        if not self.quotas.enabled:
            return None
        quota = profile.quota.for_pool(pool)
        overrides = {
            key: value
            for key, value in (
                ("rpm", self.quotas.rpm),
                ("tpm", self.quotas.tpm),
                ("tpd", self.quotas.tpd),
                ("burst_s", self.quotas.burst_s),
            )
            if value is not None
        }
        if overrides:
            quota = quota.model_copy(update=overrides)
        return quota if quota.enforced else None

    def capacity_for(self, profile: Profile) -> Capacity:
        return self.capacity if self.capacity is not None else profile.capacity

    def with_faults(self, rates: dict[str, float]) -> EmulatorConfig:
        """The same config with these fault rates set on every profile (the --fault flag).
        Raises pydantic's ValidationError for an unknown kind or a sum above 1."""
        data = self.model_dump(mode="json")
        for profile in [data["default"], *data["profiles"].values()]:
            profile["faults"].update(rates)
            if profile.get("latency_optimized"):
                profile["latency_optimized"]["faults"].update(rates)
        return EmulatorConfig.model_validate(data)

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

    def knows(self, model_id: str) -> bool:
        """Whether the id has a profile of its own (an ARN always counts: an application
        inference profile's ARN names no model the emulator could look up)."""
        return model_id.startswith("arn:") or self.profile_for(model_id) is not self.default

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
