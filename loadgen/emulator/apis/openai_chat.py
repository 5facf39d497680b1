"""OpenAI Chat Completions: POST /v1/chat/completions, the API vLLM, TGI, Ollama and LiteLLM
gateways speak. `model` in the body picks the profile.

Streaming (`stream: true`) is server-sent events: `data: {chat.completion.chunk}` lines, a
final chunk with `choices: []` and `usage` only when stream_options.include_usage is true,
then `data: [DONE]`. Otherwise one chat.completion body with usage. Errors are OpenAI's
{"error": {message, type, param, code}}; mid-stream, an error event ends the stream.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from loadgen.emulator.apis.base import Timing, json_bytes, json_object, positive_int
from loadgen.emulator.apis.blocks import served_tier
from loadgen.emulator.apis.content import ContentReader, openai_options
from loadgen.emulator.plan import DeltaKind, ParsedRequest, ResponsePlan
from loadgen.emulator.profiles import FaultKind
from loadgen.emulator.wire import STREAM_EXCEPTIONS

_FINISH = {
    "end_turn": "stop",
    "max_tokens": "length",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "content_filtered": "content_filter",
    "guardrail_intervened": "content_filter",
    "model_context_window_exceeded": "length",
}

# Bedrock's error codes (which the server speaks) as OpenAI's (status, type, code). OpenAI has
# no 424: a model failure is a 500 there.
_ERRORS: Mapping[str, tuple[int, str, str | None]] = {
    "ThrottlingException": (429, "rate_limit_error", "rate_limit_exceeded"),
    "ValidationException": (400, "invalid_request_error", None),
    "InternalServerException": (500, "server_error", None),
    "ServiceUnavailableException": (503, "server_error", "service_unavailable"),
    "ModelErrorException": (500, "server_error", "model_error"),
    "ModelTimeoutException": (500, "server_error", "timeout"),
    "ModelNotReadyException": (503, "server_error", "model_not_ready"),
    "ServiceQuotaExceededException": (429, "rate_limit_error", "rate_limit_exceeded"),
}
_STREAM_ERRORS: Mapping[str, str] = {
    "throttlingException": "ThrottlingException",
    "modelStreamErrorException": "ModelErrorException",
    "internalServerException": "InternalServerException",
    "serviceUnavailableException": "ServiceUnavailableException",
    "validationException": "ValidationException",
    "modelTimeoutException": "ModelTimeoutException",
}


def error_payload(code: str, message: str) -> tuple[int, dict[str, Any]]:
    status, kind, openai_code = _ERRORS.get(code, (500, "server_error", None))
    return status, {"error": {"message": message, "type": kind, "param": None, "code": openai_code}}


def _sse(payload: Any) -> bytes:
    return b"data: " + json_bytes(payload) + b"\n\n"


class OpenAIChatApi:
    name = "openai-chat"

    def parse(self, body: bytes, model_id: str | None, headers: Mapping[str, str]) -> ParsedRequest:
        data = json_object(body)
        model = data.get("model")
        if not isinstance(model, str) or not model:
            raise ValueError("'model' is a required property")
        if not isinstance(data.get("messages"), list):
            raise ValueError("'messages' is a required property")
        limit = data.get("max_completion_tokens", data.get("max_tokens"))
        reader = ContentReader()  # tools, then the messages: the order a cache prefix has
        reader.openai_tools(data.get("tools"))
        reader.openai_messages(data["messages"])
        options = data.get("stream_options")
        return ParsedRequest(
            model_id=model,
            prompt=reader.prompt,
            input_tokens=reader.input_tokens,
            max_tokens=positive_int(limit, "max_tokens"),
            stream=data.get("stream") is True,
            include_usage=isinstance(options, dict) and options.get("include_usage") is True,
            options=openai_options(data, reader),
        )

    def error(self, status: int, code: str, message: str, request_id: str) -> web.Response:
        openai_status, payload = error_payload(code, message)
        return web.json_response(
            payload, status=openai_status, headers={"x-request-id": request_id}
        )

    def streamer(self, request: ParsedRequest, plan: ResponsePlan) -> ChatStreamEncoder | None:
        return ChatStreamEncoder(request, plan) if request.stream else None

    def body(
        self, request: ParsedRequest, plan: ResponsePlan, timing: Timing
    ) -> tuple[bytes, dict[str, str]]:
        payload = {
            "id": _completion_id(plan),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": plan.model_id,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": plan.text},
                    "logprobs": None,
                    "finish_reason": _FINISH[plan.stop_reason],
                }
            ],
            "usage": _usage(plan),
        }
        if plan.options:
            payload["choices"][0]["message"] = _message(plan)  # type: ignore[index]
            payload.update(_tier(plan))
        return json_bytes(payload), {"Content-Type": "application/json"}


def _completion_id(plan: ResponsePlan) -> str:
    return "chatcmpl-" + plan.request_id.replace("-", "")


def _usage(plan: ResponsePlan) -> dict[str, Any]:
    if plan.options:
        return _option_usage(plan)
    return {
        "prompt_tokens": plan.input_tokens,
        "completion_tokens": plan.output_tokens,
        "total_tokens": plan.input_tokens + plan.output_tokens,
    }


def _option_usage(plan: ResponsePlan) -> dict[str, Any]:
    """OpenAI counts cached tokens inside prompt_tokens (prompt_tokens_details.cached_tokens)
    and reasoning inside completion_tokens (completion_tokens_details.reasoning_tokens)."""
    cache = plan.cache
    prompt = plan.input_tokens + (cache.read_tokens + cache.write_tokens if cache else 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": plan.output_tokens,
        "total_tokens": prompt + plan.output_tokens,
        "prompt_tokens_details": {"cached_tokens": cache.read_tokens if cache else 0},
        "completion_tokens_details": {"reasoning_tokens": plan.reasoning_tokens},
    }


def _tier(plan: ResponsePlan) -> dict[str, str]:
    return {"service_tier": served_tier(plan)} if plan.service_tier is not None else {}


def _tool_call(plan: ResponsePlan, arguments: str, *, first: bool) -> dict[str, Any]:
    tool = plan.tool
    if tool is None or not first:
        return {"index": 0, "function": {"arguments": arguments}}
    return {
        "index": 0,
        "id": tool.tool_use_id,
        "type": "function",
        "function": {"name": tool.name, "arguments": arguments},
    }


def _message(plan: ResponsePlan) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": plan.text if plan.texts else None}
    if plan.reasoning_texts:
        message["reasoning_content"] = "".join(plan.reasoning_texts)
    if plan.tool is not None:
        message["tool_calls"] = [_tool_call(plan, plan.tool.input_json, first=True)]
    return message


class ChatStreamEncoder:
    headers: Mapping[str, str] = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}

    def __init__(self, request: ParsedRequest, plan: ResponsePlan) -> None:
        self.plan = plan
        self.include_usage = request.include_usage
        self._created = int(time.time())
        self._tool_started = False

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        chunk: dict[str, Any] = {
            "id": _completion_id(self.plan),
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self.plan.model_id,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if self.include_usage:
            chunk["usage"] = None  # OpenAI sends null on every chunk but the last
        if self.plan.options:
            chunk.update(_tier(self.plan))
        return chunk

    def start(self) -> bytes:
        return _sse(self._chunk({"role": "assistant", "content": ""}))

    def delta(self, text: str, *, corrupt: bool = False, kind: DeltaKind = "text") -> bytes:
        if kind == "reasoning":  # the field vLLM, DeepSeek and gateways stream reasoning in
            delta: dict[str, Any] = {"reasoning_content": text}
        elif kind == "tool":
            delta = {"tool_calls": [_tool_call(self.plan, text, first=not self._tool_started)]}
            self._tool_started = True
        else:
            delta = {"content": text}
        data = _sse(self._chunk(delta))
        # A malformed event: the JSON cut off in the middle, as a broken proxy would send it.
        return data[: len(data) // 2] + b"\n\n" if corrupt else data

    def end(self, timing: Timing) -> bytes:
        parts = [_sse(self._chunk({}, _FINISH[self.plan.stop_reason]))]
        if self.include_usage:
            final = {**self._chunk({}), "choices": [], "usage": _usage(self.plan)}
            parts.append(_sse(final))
        parts.append(b"data: [DONE]\n\n")
        return b"".join(parts)

    def exception(self, fault: FaultKind) -> bytes:
        exception_type, message = STREAM_EXCEPTIONS[fault]
        _, payload = error_payload(_STREAM_ERRORS[exception_type], message)
        return _sse(payload)
