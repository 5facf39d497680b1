"""Request validation as Bedrock does it: what it refuses with 400 ValidationException before a
request reaches a model, and in its words where those are known.

Wording, and where it comes from (docs/emulator.md, "Fidelity"):
- a conversation that does not start with a user message, or whose roles do not alternate:
  Bedrock's Converse messages, as clients report them verbatim (GitHub issues of
  langchain-aws, semantic-kernel, dify);
- maxTokens above the model's maximum output: "The maximum tokens you requested exceeds the
  model limit of N. Try again with a maximum tokens value that is lower than N." (the same);
- temperature or topP outside the service model's range (InferenceConfiguration: 0 to 1): the
  constraint message AWS's request validation writes, "Value '1.5' at
  'inferenceConfig.temperature' failed to satisfy constraint: Member must have value less than
  or equal to 1";
- an unknown model id (only with `strict_model_ids`): "The provided model identifier is
  invalid." (400 ValidationException, not ResourceNotFoundException, in every report found).
No messages at all gets the start-with-a-user-message wording: AWS's own text for that case is
not published. The OpenAI path is not validated beyond what its parser needs.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from loadgen.emulator.profiles import Profile

START_WITH_USER = (
    "A conversation must start with a user message. Try again with a conversation that "
    "starts with a user message."
)
ALTERNATE_ROLES = (
    "A conversation must alternate between user and assistant roles. Make sure the "
    "conversation alternates between user and assistant roles and try again."
)
INVALID_MODEL_ID = "The provided model identifier is invalid."
_BEDROCK_APIS = frozenset({"converse", "converse-stream", "invoke", "invoke-with-response-stream"})


def max_tokens_message(limit: int) -> str:
    return (
        f"The maximum tokens you requested exceeds the model limit of {limit}. Try again with "
        f"a maximum tokens value that is lower than {limit}."
    )


def range_message(value: float, path: str, low: float, high: float) -> str:
    bound = (
        f"less than or equal to {high:g}" if value > high else f"greater than or equal to {low:g}"
    )
    return (
        f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value {bound}"
    )


def request_problem(
    api: str, native: str, body: dict[str, Any], profile: Profile, *, model_known: bool
) -> str | None:
    """Why Bedrock would refuse this request (the ValidationException's message), or None.
    `api` is the route's API name, `native` InvokeModel's body family ("anthropic", "nova")."""
    if api not in _BEDROCK_APIS:
        return None
    if not model_known:
        return INVALID_MODEL_ID
    anthropic = api.startswith("invoke") and native == "anthropic"
    problem = _conversation_problem(body.get("messages"), roles_alternate=not anthropic)
    if problem is not None:
        return problem
    if anthropic:
        limit, temperature, top_p = body.get("max_tokens"), body.get("temperature"), None
        temperature_path = "temperature"
    else:
        config = body.get("inferenceConfig")
        config = config if isinstance(config, dict) else {}
        limit, temperature, top_p = (
            config.get("maxTokens"),
            config.get("temperature"),
            config.get("topP"),
        )
        temperature_path = "inferenceConfig.temperature"
    requested = _number(limit)
    ceiling = profile.max_output_tokens
    if ceiling is not None and requested is not None and requested > ceiling:
        return max_tokens_message(ceiling)
    for value, path in ((temperature, temperature_path), (top_p, "inferenceConfig.topP")):
        number = _number(value)
        if number is not None and not 0.0 <= number <= 1.0:
            return range_message(number, path, 0.0, 1.0)
    return None


def _conversation_problem(messages: Any, *, roles_alternate: bool) -> str | None:
    """Converse (and Nova's body) want user first and the roles alternating; Anthropic's
    Messages body merges consecutive turns of one role, so it needs only a first message."""
    if not isinstance(messages, list) or not messages:
        return START_WITH_USER
    roles = [message.get("role") if isinstance(message, dict) else None for message in messages]
    if not roles_alternate:
        return None
    if roles[0] != "user":
        return START_WITH_USER
    if any(current == previous for previous, current in pairwise(roles)):
        return ALTERNATE_ROLES
    return None


def _number(value: Any) -> float | None:
    """A JSON number as a float; None for anything else (booleans included)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None
