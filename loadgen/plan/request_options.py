"""A model's request options (docs/scenario.md "Request options") as the Request carries them:
the scenario's specs, its own keys over those of `inference:`, made into RequestOptions."""

from __future__ import annotations

from loadgen.config.request_options import CacheSpec, GuardrailSpec, ReasoningSpec, ToolsSpec
from loadgen.config.scenario import Scenario
from loadgen.engine.request import (
    NO_OPTIONS,
    CacheOption,
    GuardrailOption,
    ReasoningOption,
    RequestOptions,
    ToolOption,
)


def request_options(scenario: Scenario, model_id: str) -> RequestOptions:
    """Every request to `model_id` carries these (NO_OPTIONS when none is set)."""
    found = scenario.model_options(model_id)
    if all(value is None for value in found.values()):
        return NO_OPTIONS
    additional = found["additional_fields"]
    return RequestOptions(
        cache=_cache(found["cache"]),
        reasoning=_reasoning(found["reasoning"]),
        tools=_tools(found["tools"]),
        service_tier=found["service_tier"],
        latency=found["latency"],
        guardrail=_guardrail(found["guardrail"]),
        # Plain dicts, not read-only views: a backend serialises them as they are.
        additional_fields=None if additional is None else dict(additional),
    )


def _cache(spec: CacheSpec | None) -> CacheOption | None:
    return None if spec is None else CacheOption(places=tuple(spec.places), ttl=spec.ttl)


def _reasoning(spec: ReasoningSpec | None) -> ReasoningOption | None:
    if spec is None:
        return None
    return ReasoningOption(budget_tokens=spec.budget_tokens, effort=spec.effort)


def _tools(spec: ToolsSpec | None) -> ToolOption | None:
    if spec is None:
        return None
    return ToolOption(
        specs=tuple(
            {"name": t.name, "description": t.description, "input_schema": t.input_schema}
            for t in spec.specs
        ),
        choice=spec.choice,
    )


def _guardrail(spec: GuardrailSpec | None) -> GuardrailOption | None:
    if spec is None:
        return None
    return GuardrailOption(identifier=spec.identifier, version=spec.version, trace=spec.trace)
