"""What a Bedrock model id says about the model: its base id (after a cross-region
inference-profile prefix such as `us.` or `global.`, or the path of an ARN) and the family
whose request fields it takes.

An application inference profile ARN (`...:application-inference-profile/<id>`) names no
model: its family is unknown, so options that differ by family (reasoning, the native
InvokeModel body) cannot be built for it; docs/scenario.md says to pass them through
`additional_fields` instead.
"""

from __future__ import annotations

import re
from typing import Literal

_PROFILE_PREFIX = re.compile(r"^(?:us|us-gov|eu|apac|jp|au|ca|global)\.")

# Whose reasoning field a model takes (docs/scenario.md "Request options on the wire").
ReasoningStyle = Literal["anthropic", "nova", "openai"]


def base_model_id(model_id: str) -> str:
    """`us.anthropic.claude-x` -> `anthropic.claude-x`; an ARN -> its last path part, likewise."""
    return _PROFILE_PREFIX.sub("", model_id.rsplit("/", 1)[-1])


def reasoning_style(model_id: str) -> ReasoningStyle | None:
    """Anthropic Claude takes `thinking`, Amazon Nova `reasoningConfig`, OpenAI's gpt-oss
    `reasoning_effort`; None for a model loadgen knows no reasoning field of."""
    base = base_model_id(model_id)
    if base.startswith("anthropic."):
        return "anthropic"
    if base.startswith("amazon.nova"):
        return "nova"
    if base.startswith("openai."):
        return "openai"
    return None
