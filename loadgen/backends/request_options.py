"""What every API's request builder shares about `Request.options`: the error for an option an
API or model cannot carry, the merge of pass-through fields, and the reasoning fields of each
model family (docs/scenario.md "Request options on the wire")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loadgen.backends.model_ids import reasoning_style
from loadgen.engine.request import ReasoningOption


class UnsupportedOption(ValueError):
    """An option this API, this model or the installed SDK cannot carry. Raised before
    anything is sent, so the request fails as a client error (code `UnsupportedOption`) instead
    of being sent without the option, which would measure another workload."""


def merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`extra` laid over `base`: nested objects merged key by key (a pass-through
    `inferenceConfig.topK` keeps the `maxTokens` loadgen set), anything else replaced."""
    result = dict(base)
    for key, value in extra.items():
        old = result.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            result[key] = merged(old, value)
        else:
            result[key] = value
    return result


def reasoning_fields(model: str, reasoning: ReasoningOption) -> dict[str, Any]:
    """Converse's additionalModelRequestFields for reasoning, by model family:
    Anthropic Claude `thinking` (a token budget), Amazon Nova 2 `reasoningConfig` and OpenAI
    gpt-oss `reasoning_effort` (an effort)."""
    style = reasoning_style(model)
    if style == "anthropic":
        return {"thinking": anthropic_thinking(model, reasoning)}
    if style == "nova":
        return {"reasoningConfig": nova_reasoning_config(model, reasoning)}
    if style == "openai":
        return {"reasoning_effort": _effort(model, reasoning, "reasoning_effort")}
    raise UnsupportedOption(
        f"loadgen knows no reasoning field for {model}; put the model's own field in "
        "additional_fields instead of reasoning"
    )


def anthropic_thinking(model: str, reasoning: ReasoningOption) -> dict[str, Any]:
    if reasoning.budget_tokens is None:
        raise UnsupportedOption(
            f"{model} takes a reasoning budget (thinking.budget_tokens), not an effort"
        )
    return {"type": "enabled", "budget_tokens": reasoning.budget_tokens}


def nova_reasoning_config(model: str, reasoning: ReasoningOption) -> dict[str, Any]:
    return {
        "type": "enabled",
        "maxReasoningEffort": _effort(model, reasoning, "reasoningConfig.maxReasoningEffort"),
    }


def _effort(model: str, reasoning: ReasoningOption, field: str) -> str:
    if reasoning.effort is None:
        raise UnsupportedOption(f"{model} takes a reasoning effort ({field}), not a budget")
    return reasoning.effort
