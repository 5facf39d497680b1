"""Reading a request's content in the order a model reads it (tools, then system, then the
messages), in each API's shape: the prompt text the answer is made from, the input tokens
(all the text of tools, system and history), and a digest of the prefix before each cache
point (Converse/Nova `cachePoint` blocks, Anthropic and OpenAI-gateway `cache_control`).

For a request with only text blocks the prompt and token count are exactly what
base.prompt_of gives, so a plain request is answered as before.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from typing import Any

from loadgen.emulator.apis.base import as_list
from loadgen.emulator.request_options import (
    CACHE_TTL_S,
    DEFAULT_CACHE_TTL_S,
    CachePoint,
    GuardrailAsk,
    Reasoning,
    RequestOptions,
    ToolSpec,
    reasoning_effort,
    reasoning_of,
    service_tier,
)


class ContentReader:
    def __init__(self) -> None:
        self._prompt: list[str] = []  # system and message text: what the answer is made from
        self._chars = 0  # every character the model reads, tools and tool traffic included
        self._hash = hashlib.sha256()
        self.cache_points: list[CachePoint] = []

    def text(self, text: str, *, prompt: bool = True) -> None:
        if prompt:
            self._prompt.append(text)
        self._chars += len(text)
        self._hash.update(text.encode("utf-8"))
        self._hash.update(b"\x00")  # block boundary: "ab"+"c" and "a"+"bc" differ

    def data(self, value: Any) -> None:
        """A JSON value the model reads (a tool's schema, a toolUse input), as its text."""
        if value is not None:
            self.text(json.dumps(value, sort_keys=True, separators=(",", ":")), prompt=False)

    def cache_point(self, ttl: Any = None) -> None:
        ttl_s = CACHE_TTL_S.get(ttl, DEFAULT_CACHE_TTL_S) if isinstance(ttl, str) else None
        tokens = math.ceil(self._chars / 4)
        if tokens:  # a cache point before any content caches nothing
            self.cache_points.append(
                CachePoint(self._hash.hexdigest(), tokens, ttl_s or DEFAULT_CACHE_TTL_S)
            )

    @property
    def prompt(self) -> str:
        return "\n".join(self._prompt)

    @property
    def input_tokens(self) -> int:
        return max(1, math.ceil(self._chars / 4))

    # --- Converse (and Nova's native messages-v1, which shares its blocks) ---------------------

    def converse_tools(self, tools: Any) -> None:
        for tool in as_list(tools):
            if not isinstance(tool, Mapping):
                continue
            spec = tool.get("toolSpec")
            if isinstance(spec, Mapping):
                self.text(str(spec.get("name", "")), prompt=False)
                self.text(str(spec.get("description", "")), prompt=False)
                schema = spec.get("inputSchema")
                self.data(schema.get("json") if isinstance(schema, Mapping) else None)
            self._converse_cache_point(tool)

    def converse_blocks(self, blocks: Any) -> None:
        if isinstance(blocks, str):  # not Converse's shape, but read as base.prompt_of does
            self.text(blocks)
            return
        for block in as_list(blocks):
            if not isinstance(block, Mapping):
                continue
            if isinstance(block.get("text"), str):
                self.text(block["text"])
            use = block.get("toolUse")
            if isinstance(use, Mapping):
                self.text(str(use.get("name", "")), prompt=False)
                self.data(use.get("input"))
            result = block.get("toolResult")
            if isinstance(result, Mapping):
                for part in as_list(result.get("content")):
                    if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                        self.text(part["text"], prompt=False)
                    elif isinstance(part, Mapping):
                        self.data(part.get("json"))
            reasoning = block.get("reasoningContent")
            if isinstance(reasoning, Mapping):
                text = reasoning.get("reasoningText")
                if isinstance(text, Mapping) and isinstance(text.get("text"), str):
                    self.text(text["text"], prompt=False)
            self._converse_cache_point(block)

    def _converse_cache_point(self, block: Mapping[str, Any]) -> None:
        point = block.get("cachePoint")
        if isinstance(point, Mapping):
            self.cache_point(point.get("ttl"))

    def converse_messages(self, messages: Any) -> None:
        for message in as_list(messages):
            if isinstance(message, Mapping):
                self.converse_blocks(message.get("content"))

    # --- Anthropic Messages (InvokeModel) ------------------------------------------------------

    def anthropic_tools(self, tools: Any) -> None:
        for tool in as_list(tools):
            if isinstance(tool, Mapping):
                self.text(str(tool.get("name", "")), prompt=False)
                self.text(str(tool.get("description", "")), prompt=False)
                self.data(tool.get("input_schema"))
                self._anthropic_cache_point(tool)

    def anthropic_blocks(self, blocks: Any) -> None:
        if isinstance(blocks, str):
            self.text(blocks)
            return
        for block in as_list(blocks):
            if not isinstance(block, Mapping):
                continue
            kind = block.get("type")
            if isinstance(block.get("text"), str):
                self.text(block["text"])
            elif kind == "tool_use":
                self.text(str(block.get("name", "")), prompt=False)
                self.data(block.get("input"))
            elif kind == "tool_result":
                content = block.get("content")
                if isinstance(content, str):
                    self.text(content, prompt=False)
                for part in as_list(content):
                    if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                        self.text(part["text"], prompt=False)
            elif kind == "thinking" and isinstance(block.get("thinking"), str):
                self.text(block["thinking"], prompt=False)
            self._anthropic_cache_point(block)

    def _anthropic_cache_point(self, block: Mapping[str, Any]) -> None:
        control = block.get("cache_control")
        if isinstance(control, Mapping):
            self.cache_point(control.get("ttl"))

    def anthropic_messages(self, messages: Any) -> None:
        for message in as_list(messages):
            if isinstance(message, Mapping):
                self.anthropic_blocks(message.get("content"))

    # --- OpenAI chat -----------------------------------------------------------------------------

    def openai_tools(self, tools: Any) -> None:
        for tool in as_list(tools):
            function = tool.get("function") if isinstance(tool, Mapping) else None
            if isinstance(function, Mapping):
                self.text(str(function.get("name", "")), prompt=False)
                self.text(str(function.get("description", "")), prompt=False)
                self.data(function.get("parameters"))

    def openai_messages(self, messages: Any) -> None:
        for message in as_list(messages):
            if not isinstance(message, Mapping):
                continue
            tool_turn = message.get("role") == "tool"
            content = message.get("content")
            if isinstance(content, str):
                self.text(content, prompt=not tool_turn)
            for part in as_list(content):
                if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                    self.text(part["text"], prompt=not tool_turn)
                    self._anthropic_cache_point(part)  # gateways take Anthropic's cache_control
            for call in as_list(message.get("tool_calls")):
                function = call.get("function") if isinstance(call, Mapping) else None
                if isinstance(function, Mapping):
                    self.text(str(function.get("name", "")), prompt=False)
                    self.text(str(function.get("arguments", "")), prompt=False)


def converse_options(
    data: Mapping[str, Any], reader: ContentReader, tier: Any = None
) -> RequestOptions:
    """The options of a Converse request (or a Nova messages-v1 body, which shares its
    toolConfig and blocks): cache points (read already), additionalModelRequestFields'
    reasoning, toolConfig, serviceTier, guardrailConfig."""
    fields = data.get("additionalModelRequestFields")
    reasoning = reasoning_of(fields) or reasoning_of(data)  # Nova bodies: at the top level
    tools: list[ToolSpec] = []
    choice: str | None = None
    config = data.get("toolConfig")
    if isinstance(config, Mapping):
        for tool in as_list(config.get("tools")):
            spec = tool.get("toolSpec") if isinstance(tool, Mapping) else None
            if isinstance(spec, Mapping) and isinstance(spec.get("name"), str):
                schema = spec.get("inputSchema")
                schema = schema.get("json") if isinstance(schema, Mapping) else None
                tools.append(ToolSpec(spec["name"], schema if isinstance(schema, Mapping) else {}))
        choice = _converse_choice(config.get("toolChoice"))
    served = data.get("serviceTier")
    if tier is None and isinstance(served, Mapping):
        tier = served.get("type")
    guardrail = None
    guard = data.get("guardrailConfig")
    if isinstance(guard, Mapping) and guard.get("guardrailIdentifier"):
        guardrail = GuardrailAsk(
            str(guard["guardrailIdentifier"]),
            str(guard.get("guardrailVersion", "DRAFT")),
            str(guard.get("trace", "disabled")).lower() in ("enabled", "enabled_full"),
        )
    return RequestOptions(
        cache_points=tuple(reader.cache_points),
        reasoning=reasoning,
        tools=tuple(tools),
        tool_choice=choice,
        answers_tool_result=_last_user_has(data.get("messages"), "toolResult"),
        service_tier=service_tier(tier),
        guardrail=guardrail,
    )


def _converse_choice(choice: Any) -> str | None:
    if not isinstance(choice, Mapping):
        return None
    if "any" in choice:
        return "any"
    tool = choice.get("tool")
    if isinstance(tool, Mapping) and isinstance(tool.get("name"), str):
        return str(tool["name"])
    return "auto" if "auto" in choice else None


def _last_user_has(messages: Any, key: str, type_key: str | None = None) -> bool:
    """Whether the last message is the user's and carries a block of this kind (Converse: a
    block with `key`; Anthropic: a block whose type is `type_key`)."""
    listed = as_list(messages)
    last = listed[-1] if listed else None
    if not isinstance(last, Mapping) or last.get("role") != "user":
        return False
    for block in as_list(last.get("content")):
        if isinstance(block, Mapping) and (
            key in block or (type_key is not None and block.get("type") == type_key)
        ):
            return True
    return False


def anthropic_options(data: Mapping[str, Any], reader: ContentReader, tier: Any) -> RequestOptions:
    """An Anthropic Messages body's options: cache_control (read already), thinking, tools and
    tool_choice {type: auto|any|tool|none, name}; the tier comes in a header."""
    tools = tuple(
        ToolSpec(tool["name"], tool.get("input_schema") or {})
        for tool in as_list(data.get("tools"))
        if isinstance(tool, Mapping) and isinstance(tool.get("name"), str)
    )
    choice = data.get("tool_choice")
    named: str | None = None
    if isinstance(choice, Mapping):
        named = str(choice.get("name")) if choice.get("type") == "tool" else choice.get("type")
    return RequestOptions(
        cache_points=tuple(reader.cache_points),
        reasoning=reasoning_of(data),
        tools=tools,
        tool_choice=named,
        answers_tool_result=_last_user_has(data.get("messages"), "", "tool_result"),
        service_tier=service_tier(tier),
    )


def openai_options(data: Mapping[str, Any], reader: ContentReader) -> RequestOptions:
    """An OpenAI chat request's options: tools [{type: function, function {name,
    parameters}}], tool_choice (auto, required, none, or {function {name}}), reasoning_effort,
    service_tier; cache_control on content parts, as gateways take it."""
    tools: list[ToolSpec] = []
    for tool in as_list(data.get("tools")):
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            parameters = function.get("parameters")
            tools.append(
                ToolSpec(function["name"], parameters if isinstance(parameters, Mapping) else {})
            )
    choice = data.get("tool_choice")
    named: str | None = None
    if isinstance(choice, str):
        named = "any" if choice == "required" else choice
    elif isinstance(choice, Mapping):
        function = choice.get("function")
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            named = function["name"]
    messages = as_list(data.get("messages"))
    effort = reasoning_effort(data.get("reasoning_effort"))
    tier = data.get("service_tier")
    return RequestOptions(
        cache_points=tuple(reader.cache_points),
        reasoning=Reasoning(effort=effort) if effort is not None else None,
        tools=tuple(tools),
        tool_choice=named,
        answers_tool_result=bool(messages)
        and isinstance(messages[-1], Mapping)
        and messages[-1].get("role") == "tool",
        # OpenAI's "auto" lets the project's default serve; Bedrock's tiers by name otherwise.
        service_tier=None if tier in (None, "auto") else service_tier(tier),
    )
