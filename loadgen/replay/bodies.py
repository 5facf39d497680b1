"""What a logged request body asks, in loadgen's terms: the conversation (system text, the turns
before this one, this turn's blocks and text), where its cache points were, its tools, its
reasoning settings and the model-specific fields to pass through.

Invocation logs keep the request body (`input.inputBodyJson`) when text logging is on. Converse
bodies (and Nova's native body, which has Converse's shape) have `system` and `messages` of
blocks (`{"text"}`, `{"toolUse"}`, `{"toolResult"}`, `{"cachePoint"}`), `toolConfig` and
`additionalModelRequestFields` (botocore's bedrock-runtime ConverseRequest); Anthropic's native
Messages body has `system`, `messages` of typed blocks (`{"type": "text" | "tool_use" |
"tool_result", ...}`, a block's `cache_control` marking a cache point after it), `tools`,
`tool_choice` and `thinking`. Older native bodies have a single `prompt` (Llama, Mistral),
`inputText` (Titan) or `message` (Cohere).

The messages before the last user message become Prompt.history (Converse-shaped, as each
backend expects), the last user message's tool results Prompt.user_blocks and its text
Prompt.user. Images, documents and reasoning blocks are not sent (the log does not hold their
bytes): a message left with none of its blocks keeps a short text naming what was there, so
the turns still alternate. A body with no text at all gives None (a synthetic prompt of the
logged size is sent instead)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast, get_args

from loadgen.engine.request import (
    CachePlace,
    CacheTtl,
    ReasoningEffort,
    ReasoningOption,
    ToolOption,
)

# Single-text native bodies: the key that holds the prompt.
_TEXT_KEYS = ("prompt", "inputText", "message")
# Fields of additionalModelRequestFields that are request options of their own.
_REASONING_FIELDS = ("thinking", "reasoningConfig", "reasoning_effort")


@dataclass(frozen=True, slots=True)
class LoggedRequest:
    """A logged request body, as loadgen sends it."""

    system: str | None
    user: str  # this turn's text
    history: tuple[Mapping[str, Any], ...] = ()  # Converse messages before this turn
    user_blocks: tuple[Mapping[str, Any], ...] = ()  # this turn's tool results
    prefix_chars: int = 0  # a cache point after the first prefix_chars of `user`
    cache_places: tuple[CachePlace, ...] = ()
    cache_ttl: CacheTtl | None = None
    tools: ToolOption | None = None
    reasoning: ReasoningOption | None = None
    additional_fields: Mapping[str, Any] | None = None  # Converse's, less the reasoning ones


def logged_request(body: Any) -> LoggedRequest | None:
    """The request a logged body holds; None when it holds no text."""
    if not isinstance(body, dict):
        return None  # a body logged as a string: offloaded or truncated, not the request
    marks = _CacheMarks()
    system = _joined(_system_texts(body.get("system"), marks))
    messages = [
        message
        for given in _list(body.get("messages"))
        for message in [_converse_message(given, marks)]
        if message is not None
    ]
    last_user = max((i for i, (role, _, _) in enumerate(messages) if role == "user"), default=-1)
    if last_user < 0:
        single = next(
            (body[k] for k in _TEXT_KEYS if isinstance(body.get(k), str) and body[k]), None
        )
        if single is None:
            return None
        return LoggedRequest(system=system, user=single)
    history = tuple(
        {"role": role, "content": blocks or [{"text": f"[{', '.join(dropped)}]"}]}
        for role, blocks, dropped in messages[:last_user]
    )
    if any(marks.in_message(i) for i in range(last_user)):
        marks.places.append("conversation")
    user, prefix_chars = _turn_text(marks.turn_texts(last_user))
    user_blocks = tuple(b for b in messages[last_user][1] if "toolResult" in b)
    if not user and not user_blocks:
        if not history:
            return None
        # This turn held only blocks that are not sent (an image): name them, as in history.
        user = f"[{', '.join(messages[last_user][2]) or 'empty'}]"
    if prefix_chars:
        marks.places.append("prefix")
    tools = _tools(body, marks)
    extra = _dict(body.get("additionalModelRequestFields"))
    return LoggedRequest(
        system=system,
        user=user,
        history=history,
        user_blocks=user_blocks,
        prefix_chars=prefix_chars,
        cache_places=tuple(dict.fromkeys(marks.places)),
        cache_ttl=marks.ttl,
        tools=tools,
        reasoning=_reasoning(extra) or _reasoning(body),
        additional_fields={k: v for k, v in extra.items() if k not in _REASONING_FIELDS} or None,
    )


class _CacheMarks:
    """Where the body's cache points were: the places found, the first TTL given, and for each
    message the text blocks and the cache points that follow them."""

    def __init__(self) -> None:
        self.places: list[CachePlace] = []
        self.ttl: CacheTtl | None = None
        # Per message (in order): its text blocks, each with whether a cache point follows it.
        self._texts: list[list[tuple[str, bool]]] = []
        self._marked: list[bool] = []

    def point(self, mark: Any) -> None:
        ttl = _dict(mark).get("ttl")
        if self.ttl is None and ttl in get_args(CacheTtl):
            self.ttl = cast(CacheTtl, ttl)

    def start_message(self) -> None:
        self._texts.append([])
        self._marked.append(False)

    def text(self, text: str) -> None:
        self._texts[-1].append((text, False))

    def after_last_block(self, mark: Any) -> None:
        self.point(mark)
        self._marked[-1] = True
        if self._texts[-1]:
            text, _ = self._texts[-1][-1]
            self._texts[-1][-1] = (text, True)

    def in_message(self, index: int) -> bool:
        return self._marked[index]

    def turn_texts(self, index: int) -> list[tuple[str, bool]]:
        return self._texts[index]


def _system_texts(system: Any, marks: _CacheMarks) -> list[str]:
    if isinstance(system, str):
        return [system] if system else []
    texts = []
    for block in _list(system):
        block = _dict(block)
        if "cachePoint" in block or "cache_control" in block:
            marks.point(block.get("cachePoint") or block.get("cache_control"))
            marks.places.append("system")
        if isinstance(block.get("text"), str) and block["text"]:
            texts.append(block["text"])
    return texts


def _converse_message(
    message: Any, marks: _CacheMarks
) -> tuple[str, list[dict[str, Any]], list[str]] | None:
    """(role, Converse blocks, names of blocks not sent) of a Converse or Anthropic message."""
    message = _dict(message)
    role = message.get("role")
    if role not in ("user", "assistant"):
        return None
    marks.start_message()
    content = message.get("content")
    if isinstance(content, str):
        content = [{"text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    dropped: list[str] = []
    for block in _list(content):
        block = _dict(block)
        kind = block.get("type")
        if "cachePoint" in block:
            marks.after_last_block(block["cachePoint"])
            continue
        converse = _converse_block(block)
        if converse is None:
            dropped.append(str(kind or next(iter(block), "block")))
        else:
            blocks.append(converse)
            if "text" in converse:
                marks.text(converse["text"])
        if "cache_control" in block:  # Anthropic: a cache point after this block
            marks.after_last_block(block["cache_control"])
    return role, blocks, dropped


def _converse_block(block: dict[str, Any]) -> dict[str, Any] | None:
    """A block in Converse's shape, or None when it is not sent (image, document, reasoning)."""
    kind = block.get("type")
    if isinstance(block.get("text"), str) and kind in (None, "text"):
        return {"text": block["text"]} if block["text"] else None
    if "toolUse" in block or "toolResult" in block:
        return {key: block[key] for key in ("toolUse", "toolResult") if key in block}
    if kind == "tool_use":
        return {
            "toolUse": {
                "toolUseId": block.get("id", ""),
                "name": block.get("name", ""),
                "input": _dict(block.get("input")),
            }
        }
    if kind == "tool_result":
        texts = _texts_of(block.get("content"))
        result: dict[str, Any] = {
            "toolUseId": block.get("tool_use_id", ""),
            "content": [{"text": text} for text in texts] or [{"text": ""}],
        }
        if block.get("is_error"):
            result["status"] = "error"
        return {"toolResult": result}
    return None


def _turn_text(texts: list[tuple[str, bool]]) -> tuple[str, int]:
    """This turn's text blocks joined by newlines, and the characters up to the last cache
    point among them (0: none)."""
    joined = ""
    prefix = 0
    for index, (text, marked) in enumerate(texts):
        joined += ("\n" if index else "") + text
        if marked:
            prefix = len(joined)
    return joined, prefix


def _tools(body: dict[str, Any], marks: _CacheMarks) -> ToolOption | None:
    config = _dict(body.get("toolConfig"))
    specs: list[dict[str, Any]] = []
    for tool in _list(config.get("tools")) or _list(body.get("tools")):
        tool = _dict(tool)
        if "cachePoint" in tool or "cache_control" in tool:
            marks.point(tool.get("cachePoint") or tool.get("cache_control"))
            marks.places.append("tools")
        spec = _dict(tool.get("toolSpec"))
        if spec:  # Converse: {"toolSpec": {"name", "description", "inputSchema": {"json"}}}
            schema = _dict(spec.get("inputSchema")).get("json")
            specs.append(_spec(spec.get("name"), spec.get("description"), schema))
        elif "input_schema" in tool:  # Anthropic: {"name", "description", "input_schema"}
            specs.append(_spec(tool.get("name"), tool.get("description"), tool["input_schema"]))
    if not specs:
        return None
    return ToolOption(specs=tuple(specs), choice=_tool_choice(config, body))


def _spec(name: Any, description: Any, schema: Any) -> dict[str, Any]:
    return {
        "name": str(name or "tool"),
        "description": str(description or ""),
        "input_schema": schema if isinstance(schema, dict) else {"type": "object"},
    }


def _tool_choice(config: dict[str, Any], body: dict[str, Any]) -> str | None:
    converse = _dict(config.get("toolChoice"))
    if "tool" in converse:
        return str(_dict(converse["tool"]).get("name", "")) or None
    for choice in ("auto", "any"):
        if choice in converse:
            return choice
    anthropic = _dict(body.get("tool_choice"))
    kind = anthropic.get("type")
    if kind == "tool":
        return str(anthropic.get("name", "")) or None
    return kind if kind in ("auto", "any") else None


def _reasoning(fields: dict[str, Any]) -> ReasoningOption | None:
    """Anthropic's thinking budget, Nova 2's reasoningConfig effort, or reasoning_effort."""
    thinking = _dict(fields.get("thinking"))
    budget = thinking.get("budget_tokens")
    if thinking.get("type") == "enabled" and isinstance(budget, int) and budget > 0:
        return ReasoningOption(budget_tokens=budget)
    config = _dict(fields.get("reasoningConfig"))
    effort = config.get("maxReasoningEffort", fields.get("reasoning_effort"))
    if config.get("type", "enabled") == "enabled" and effort in get_args(ReasoningEffort):
        return ReasoningOption(effort=cast(ReasoningEffort, effort))
    return None


def _texts_of(content: Any) -> list[str]:
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


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
