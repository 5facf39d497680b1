"""What a model family accepts of the request options, where AWS documents it: which way it
takes reasoning (a token budget or an effort), and whether its InvokeModel body has cache
points and tools. A model id this module does not know (an application inference profile
ARN, a new family) is not checked: its options are sent as written.

Sources (docs/scenario.md "Request options"): the Amazon Bedrock user guide's "Extended
thinking" page (Claude: `thinking.budget_tokens`, at least 1,024 and below max_tokens), the
Amazon Nova 2 user guide ("Extended thinking", `reasoningConfig.maxReasoningEffort` low |
medium | high), and the gpt-oss model card on Bedrock (`reasoning_effort`).
"""

from __future__ import annotations

import re
from typing import Literal

ReasoningStyle = Literal["budget", "effort", "none"]

# Regional and global inference profiles put a prefix before the model id.
_PROFILE_PREFIX = re.compile(r"^(?:us|us-gov|eu|apac|jp|au|ca|global)\.")
# Claude ids: anthropic.claude-3-7-sonnet-20250219-v1:0, anthropic.claude-sonnet-4-5-2025...,
# anthropic.claude-opus-4-20250514-v1:0 (4.0: the date follows the major version).
_CLAUDE_NEW = re.compile(r"^anthropic\.claude-(?:opus|sonnet|haiku)-(\d+)(?:-(\d{1,2}))?(?:-|$)")
_CLAUDE_OLD = re.compile(r"^anthropic\.claude-(\d+)(?:-(\d))?-(?:opus|sonnet|haiku)")

# Anthropic's extended thinking: the smallest budget the API takes.
MIN_THINKING_BUDGET = 1024


def base_model_id(model_id: str) -> str:
    """The foundation model id inside an inference profile id or ARN."""
    return _PROFILE_PREFIX.sub("", model_id.rsplit("/", 1)[-1])


def family_name(model_id: str) -> str | None:
    """anthropic, nova, gpt-oss, or None where loadgen does not know the family."""
    base = base_model_id(model_id)
    if base.startswith("anthropic.claude"):
        return "anthropic"
    if base.startswith("amazon.nova"):
        return "nova"
    if base.startswith("openai.gpt-oss"):
        return "gpt-oss"
    return None


def _claude_version(base: str) -> tuple[int, int] | None:
    match = _CLAUDE_NEW.match(base) or _CLAUDE_OLD.match(base)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2) or 0)


def reasoning_style(model_id: str) -> ReasoningStyle | None:
    """How the model takes `reasoning`: a token budget (Claude 3.7 to 4.5), an effort (Nova 2,
    gpt-oss), none at all (Claude 3 and 3.5, Nova 1), or None: not known, not checked (Claude
    4.6 and later take both, by Anthropic's adaptive thinking)."""
    base = base_model_id(model_id)
    family = family_name(model_id)
    if family == "anthropic":
        version = _claude_version(base)
        if version is None:
            return None
        if version < (3, 7):
            return "none"
        return "budget" if version <= (4, 5) else None
    if family == "nova":
        return "effort" if base.startswith("amazon.nova-2") else "none"
    if family == "gpt-oss":
        return "effort"
    return None


def invoke_body_has(model_id: str, feature: Literal["cache", "tools"]) -> bool | None:
    """Whether the family's InvokeModel body carries cache points or tools: Anthropic's
    Messages body (cache_control, tools) and Nova's (cachePoint, toolConfig) do; gpt-oss's
    chat body has tools but no cache points. None: the family is not known."""
    family = family_name(model_id)
    if family in ("anthropic", "nova"):
        return True
    if family == "gpt-oss":
        return feature == "tools"
    return None
