"""The two seams every API fills: reading a request, and encoding a plan."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from loadgen.emulator.plan import DeltaKind, ParsedRequest, ResponsePlan
from loadgen.emulator.profiles import FaultKind


@dataclass(frozen=True)
class Timing:
    """What the server measured, for the fields that report it (latencyMs and the like)."""

    latency_ms: int
    first_byte_ms: int | None


class StreamEncoder(Protocol):
    """The bytes of a streaming response, piece by piece; the server decides when."""

    @property
    def headers(self) -> Mapping[str, str]: ...

    def start(self) -> bytes: ...
    def delta(self, text: str, *, corrupt: bool = False, kind: DeltaKind = "text") -> bytes:
        """One delta; `kind` reasoning or tool only for a request with options, whose encoder
        also opens and closes its content blocks around them."""
        ...

    def end(self, timing: Timing) -> bytes: ...
    def exception(self, fault: FaultKind) -> bytes: ...


class Api(Protocol):
    name: str

    def parse(self, body: bytes, model_id: str | None, headers: Mapping[str, str]) -> ParsedRequest:
        """ValueError (its text shown to the client) when the body is not valid."""
        ...

    def error(self, status: int, code: str, message: str, request_id: str) -> web.Response: ...

    def streamer(self, request: ParsedRequest, plan: ResponsePlan) -> StreamEncoder | None:
        """The stream encoder, or None when this request is answered in one body."""
        ...

    def body(
        self, request: ParsedRequest, plan: ResponsePlan, timing: Timing
    ) -> tuple[bytes, dict[str, str]]:
        """A whole (non-streaming) response: its body and headers, Content-Type included."""
        ...


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def json_object(body: bytes) -> dict[str, Any]:
    data = json.loads(body)  # ValueError (JSONDecodeError, UnicodeDecodeError) if not JSON
    if not isinstance(data, dict):
        raise ValueError("the request body must be a JSON object")
    return data


def estimate_tokens(text: str) -> int:
    """About four characters a token; at least 1."""
    return max(1, math.ceil(len(text) / 4))


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def block_texts(blocks: Any) -> list[str]:
    """The text of content blocks: a plain string, or a list of {text} / {type, text}."""
    if isinstance(blocks, str):
        return [blocks]
    return [
        block["text"]
        for block in as_list(blocks)
        if isinstance(block, dict) and isinstance(block.get("text"), str)
    ]


def prompt_of(system: Any, messages: Any) -> tuple[str, int]:
    """(prompt, input tokens): the system text, then each message's text, joined by newlines;
    tokens estimated over the text alone (the separators are not the user's)."""
    texts = block_texts(system)
    for message in as_list(messages):
        if isinstance(message, dict):
            texts.extend(block_texts(message.get("content")))
    return "\n".join(texts), estimate_tokens("".join(texts))


def positive_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an integer of at least 1")
    return value
