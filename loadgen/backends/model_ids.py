"""What a Bedrock model id says about the model: its base id (after a cross-region
inference-profile prefix such as `us.` or `global.`, or the path of an ARN) and the family
whose request fields it takes.

An application inference profile ARN (`...:application-inference-profile/<id>`) names no
model: its family is unknown, so options that differ by family (reasoning, the native
InvokeModel body) cannot be built for it; docs/scenario.md says to pass them through
`additional_fields` instead.
"""

from __future__ import annotations

from typing import Literal

from loadgen.config.model_family import base_model_id, family_name

__all__ = ["ReasoningStyle", "base_model_id", "reasoning_style"]

# Whose reasoning field a model takes (docs/scenario.md "Request options on the wire").
ReasoningStyle = Literal["anthropic", "nova", "openai"]
_FIELD_OF_FAMILY: dict[str, ReasoningStyle] = {
    "anthropic": "anthropic",
    "nova": "nova",
    "gpt-oss": "openai",
}


def reasoning_style(model_id: str) -> ReasoningStyle | None:
    """Anthropic Claude takes `thinking`, Amazon Nova `reasoningConfig`, OpenAI's gpt-oss
    `reasoning_effort`; None for a model loadgen knows no reasoning field of."""
    family = family_name(model_id)
    return None if family is None else _FIELD_OF_FAMILY.get(family)
