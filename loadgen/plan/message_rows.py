"""Dataset rows that hold a conversation (docs/dataset-format.md "Message-history rows"):
`messages: [{role, content}]`, content a string or Converse content blocks. The last message
is the user turn sent; the earlier ones are its history."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MESSAGES_FIELD = "messages"
# Converse ContentBlock members (botocore bedrock-runtime): each block is a mapping with one.
CONTENT_BLOCK_KINDS = frozenset(
    {
        "text",
        "image",
        "document",
        "video",
        "audio",
        "toolUse",
        "toolResult",
        "guardContent",
        "cachePoint",
        "reasoningContent",
        "citationsContent",
        "searchResult",
    }
)


@dataclass(frozen=True, slots=True)
class RowConversation:
    history: tuple[Mapping[str, Any], ...]
    user_blocks: tuple[Mapping[str, Any], ...]
    user: str


def row_conversation(messages: Any, where: str) -> RowConversation:
    """The row's messages as history, the last user message's other blocks, and its text.
    Raises ValueError saying what is wrong and where (`where` names the row)."""
    if not isinstance(messages, list) or not messages:
        raise ValueError(f"{where}: {MESSAGES_FIELD} must be a non-empty list of messages")
    normalised = [_message(m, f"{where} {MESSAGES_FIELD}[{i}]") for i, m in enumerate(messages)]
    for index, message in enumerate(normalised):
        expected = "user" if index % 2 == 0 else "assistant"
        if message["role"] != expected:
            raise ValueError(
                f"{where} {MESSAGES_FIELD}[{index}]: role {message['role']!r}, expected "
                f"{expected!r}: messages start with user and alternate user, assistant"
            )
    if normalised[-1]["role"] != "user":
        raise ValueError(
            f"{where}: the last message must be the user's (it is the turn sent); "
            "drop the trailing assistant message"
        )
    last = normalised[-1]["content"]
    if "text" not in last[-1]:
        raise ValueError(
            f"{where}: the last user message must end with a text block (the turn's text, "
            "after any toolResult)"
        )
    return RowConversation(
        history=tuple(normalised[:-1]),
        user_blocks=tuple(last[:-1]),
        user=str(last[-1]["text"]),
    )


def _message(message: Any, where: str) -> dict[str, Any]:
    if not isinstance(message, dict) or set(message) != {"role", "content"}:
        raise ValueError(f"{where}: expected {{role, content}} and nothing else")
    content = message["content"]
    if isinstance(content, str):
        blocks: list[Any] = [{"text": content}]
    elif isinstance(content, list) and content:
        blocks = content
    else:
        raise ValueError(f"{where}: content must be a string or a non-empty list of blocks")
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or len(block) != 1 or not set(block) <= CONTENT_BLOCK_KINDS:
            raise ValueError(
                f"{where} content[{index}]: a block is a mapping with one of "
                f"{', '.join(sorted(CONTENT_BLOCK_KINDS))}"
            )
        if "text" in block and (not isinstance(block["text"], str) or not block["text"].strip()):
            raise ValueError(f"{where} content[{index}]: text must be a non-empty string")
    return {"role": message["role"], "content": blocks}
