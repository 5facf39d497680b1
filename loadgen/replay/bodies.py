"""The prompt a logged request body holds, as loadgen sends prompts: a system text and one user
text.

Invocation logs keep the request body (`input.inputBodyJson`) when text logging is on. Converse
bodies and the native bodies of the Anthropic and Nova families have `system` and `messages`;
older native bodies a single `prompt` (Llama, Mistral), `inputText` (Titan) or `message`
(Cohere). A conversation is sent as one user text, its turns joined in order: the same words,
so about the same input tokens, though not the same turns. Images, documents and tool blocks
are not text and are left out; a body with no text at all gives None (a synthetic prompt of
the logged size is sent instead)."""

from __future__ import annotations

from typing import Any

# Single-text native bodies: the key that holds the prompt.
_TEXT_KEYS = ("prompt", "inputText", "message")


def logged_prompt(body: Any) -> tuple[str | None, str] | None:
    """(system, user) of a logged request body; None when it holds no text."""
    if isinstance(body, str):
        return None  # a body logged as a string: offloaded or truncated, not the request
    if not isinstance(body, dict):
        return None
    system = _joined(_texts(body.get("system")))
    turns = [
        text
        for message in _list(body.get("messages"))
        if isinstance(message, dict)
        for text in [_joined(_texts(message.get("content")))]
        if text
    ]
    if not turns:
        turns = [body[key] for key in _TEXT_KEYS if isinstance(body.get(key), str) and body[key]]
    if not turns:
        return None
    return system, "\n\n".join(turns)


def _texts(content: Any) -> list[str]:
    """The text of a content value: a string, or blocks with `text` (Converse, Nova,
    Anthropic's `{"type": "text", "text": ...}`)."""
    if isinstance(content, str):
        return [content] if content else []
    return [
        block["text"]
        for block in _list(content)
        if isinstance(block, dict) and isinstance(block.get("text"), str) and block["text"]
    ]


def _joined(texts: list[str]) -> str | None:
    return "\n".join(texts) if texts else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
