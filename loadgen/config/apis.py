"""The APIs loadgen can drive (`target.api`, `--api`) and how they pair up: the vocabulary
every layer shares. Which backend speaks each is loadgen/backends/apis.py."""

from __future__ import annotations

from typing import Literal, get_args

ApiName = Literal[
    "bedrock-converse-stream",
    "bedrock-converse",
    "bedrock-invoke-stream",
    "bedrock-invoke",
    "openai-chat",
    "openai-chat-nostream",
]

APIS: tuple[str, ...] = get_args(ApiName)
DEFAULT_API = "bedrock-converse-stream"

# The same family's other mode: what compare_streaming runs the prompts through as well.
STREAMING_PAIRS = {
    "bedrock-converse-stream": "bedrock-converse",
    "bedrock-invoke-stream": "bedrock-invoke",
    "openai-chat": "openai-chat-nostream",
}
STREAMING_PAIRS.update({b: a for a, b in list(STREAMING_PAIRS.items())})
STREAMING = frozenset({"bedrock-converse-stream", "bedrock-invoke-stream", "openai-chat"})
INVOKE_APIS = frozenset({"bedrock-invoke-stream", "bedrock-invoke"})


def is_openai(api: str) -> bool:
    return api.startswith("openai-")


def apis_of_run(api: str, compare_streaming: bool) -> list[str]:
    """The APIs a run sends through, in order: the chosen one first."""
    return [api, STREAMING_PAIRS[api]] if compare_streaming else [api]
