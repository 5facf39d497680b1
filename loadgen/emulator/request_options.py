"""What a request asks of the model besides its prompt, whichever API carried it: cache points,
reasoning, tools, a service tier, a guardrail.

Each API's parser fills one RequestOptions (apis/content.py walks the content); a request that
asks for none of them gets NO_OPTIONS and is answered exactly as before the options existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

ServiceTier = Literal["priority", "default", "flex", "reserved"]
SERVICE_TIERS: tuple[ServiceTier, ...] = ("priority", "default", "flex", "reserved")
ReasoningEffort = Literal["low", "medium", "high"]
# Bedrock's cache TTLs (CacheTTL in the service model); a cache point without one lasts 5 min.
CACHE_TTL_S: Mapping[str, float] = {"5m": 300.0, "1h": 3600.0}
DEFAULT_CACHE_TTL_S = CACHE_TTL_S["5m"]


@dataclass(frozen=True)
class CachePoint:
    """A cache point: the digest of everything the model reads before it (tools, system,
    messages, in that order), that prefix's tokens, and how long an entry lives."""

    digest: str
    tokens: int
    ttl_s: float = DEFAULT_CACHE_TTL_S


@dataclass(frozen=True)
class ToolSpec:
    name: str
    schema: Mapping[str, Any]  # the tool's input JSON schema


@dataclass(frozen=True)
class GuardrailAsk:
    identifier: str
    version: str
    trace: bool  # trace enabled (or enabled_full): the assessment comes back


@dataclass(frozen=True)
class Reasoning:
    """Reasoning was asked for: with a token budget (Anthropic thinking.budget_tokens) or an
    effort (Nova 2 maxReasoningEffort, gpt-oss and OpenAI reasoning_effort), or neither."""

    budget_tokens: int | None = None
    effort: ReasoningEffort | None = None


@dataclass(frozen=True)
class RequestOptions:
    cache_points: tuple[CachePoint, ...] = ()
    reasoning: Reasoning | None = None
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: str | None = None  # "auto", "any", "none", or one tool's name; None: auto
    answers_tool_result: bool = False  # the last user message carries a tool result
    service_tier: ServiceTier | None = None
    guardrail: GuardrailAsk | None = None

    @property
    def any(self) -> bool:
        return self != NO_OPTIONS


NO_OPTIONS = RequestOptions()


def service_tier(value: Any) -> ServiceTier | None:
    """A tier name as a request writes it (any case); ValueError for one Bedrock lacks."""
    if value is None:
        return None
    name = str(value).lower()
    for tier in SERVICE_TIERS:
        if tier == name:
            return tier
    raise ValueError(f"serviceTier must be one of {', '.join(SERVICE_TIERS)}, not {value!r}")


def reasoning_effort(value: Any) -> ReasoningEffort | None:
    name = str(value).lower() if value is not None else None
    if name in ("low", "medium", "high"):
        return name  # type: ignore[return-value]
    return None


def reasoning_of(fields: Any) -> Reasoning | None:
    """Reasoning asked through a model's own fields (Converse additionalModelRequestFields, or
    the top level of an InvokeModel body, Nova's inferenceConfig included): Anthropic
    `thinking {type: enabled|adaptive, budget_tokens}`, Nova 2 `reasoningConfig {type: enabled,
    maxReasoningEffort}`, gpt-oss `reasoning_effort`."""
    if not isinstance(fields, Mapping):
        return None
    thinking = fields.get("thinking")
    if isinstance(thinking, Mapping) and thinking.get("type") in ("enabled", "adaptive"):
        budget = thinking.get("budget_tokens")
        budget = budget if isinstance(budget, int) and not isinstance(budget, bool) else None
        return Reasoning(budget_tokens=budget if budget and budget > 0 else None)
    config = fields.get("reasoningConfig")
    if config is None:  # Nova 2's InvokeModel body puts it inside inferenceConfig
        inference = fields.get("inferenceConfig")
        config = inference.get("reasoningConfig") if isinstance(inference, Mapping) else None
    if isinstance(config, Mapping) and config.get("type") == "enabled":
        return Reasoning(effort=reasoning_effort(config.get("maxReasoningEffort")))
    effort = reasoning_effort(fields.get("reasoning_effort"))
    if effort is not None:
        return Reasoning(effort=effort)
    return None
