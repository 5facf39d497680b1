"""Whether an answer calls a tool, which one, and the JSON input it sends.

Bedrock's rules: toolChoice `any` or `tool` always calls one (and writes no text); `auto` (the
default) calls one in `tool_use_rate` of answers, after its text; a request whose last user
message carries a tool result gets a text answer (the conversation goes on from the result).
The input is a JSON object with every property the tool's schema requires, of its type."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loadgen.emulator.request_options import RequestOptions, ToolSpec


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


INPUT_CHARS_PER_DELTA = 16  # a toolUse input delta carries a few tokens of partial JSON


@dataclass(frozen=True)
class ToolCall:
    tool_use_id: str
    name: str
    input: dict[str, Any]
    only: bool  # toolChoice any/tool: the answer is the call alone, no text

    @property
    def input_json(self) -> str:
        return json.dumps(self.input, separators=(",", ":"))

    def deltas(self) -> list[str]:
        text, size = self.input_json, INPUT_CHARS_PER_DELTA
        return [text[k : k + size] for k in range(0, len(text), size)]

    @property
    def tokens(self) -> int:
        return max(1, -(-len(self.input_json) // 4))


def draw_tool_call(
    options: RequestOptions, rate: float, rng: random.Random, request_id: str
) -> ToolCall | None:
    if not options.tools or options.answers_tool_result or options.tool_choice == "none":
        return None
    choice = options.tool_choice or "auto"
    named = next((tool for tool in options.tools if tool.name == choice), None)
    if choice == "auto" and rng.random() >= rate:
        return None
    tool = named if named is not None else options.tools[rng.randrange(len(options.tools))]
    return ToolCall(
        tool_use_id="tooluse_" + request_id.replace("-", "")[:22],
        name=tool.name,
        input=tool_input(tool, rng),
        only=choice != "auto",
    )


def tool_input(tool: ToolSpec, rng: random.Random) -> dict[str, Any]:
    """An object with the schema's required properties, each a value of its declared type."""
    properties = tool.schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = tool.schema.get("required")
    names = [name for name in as_list(required) if isinstance(name, str)]
    return {name: _value(properties.get(name), rng) for name in names}


def _value(schema: Any, rng: random.Random) -> Any:
    schema = schema if isinstance(schema, Mapping) else {}
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[rng.randrange(len(enum))]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "integer":
        return rng.randint(1, 1000)
    if kind == "number":
        return round(rng.uniform(0, 1000), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return f"value-{rng.randint(1000, 9999)}"
