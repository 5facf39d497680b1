"""OpenAI-compatible chat completions (`api: openai-chat` streaming, `openai-chat-nostream`),
over aiohttp directly: vLLM, TGI, Ollama, LiteLLM gateways and OpenAI itself.

`target.endpoint_url` is the base URL as OpenAI's SDK takes it (with `/v1`); requests go to
`{endpoint_url}/chat/completions`. Token counts come from the server's `usage`: streaming asks
for it with `stream_options.include_usage`. The API key (from the environment variable that
`target.api_key_env` names) goes only into the Authorization header, and is registered for
redaction (loadgen/core/redact.py): a server that echoes it back leaves no trace of it.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from loadgen.backends.classify import describe, fail_incomplete, status_class, transport_class
from loadgen.backends.request_options import UnsupportedOption, merged
from loadgen.backends.sse import sse_data
from loadgen.backends.tracing import bound, trace_config
from loadgen.config.scenario import TargetSpec, TimeoutSpec
from loadgen.core.redact import redact_text, register_secrets
from loadgen.core.sample import ErrorClass
from loadgen.engine.backend import Timeline
from loadgen.engine.request import Request

DONE = "[DONE]"
REQUEST_ID_HEADER = "x-request-id"


class OpenAIChatBackend:
    def __init__(
        self,
        target: TargetSpec,
        timeouts: TimeoutSpec,
        *,
        pool_size: int,
        stream: bool,
        api_key: str | None = None,
    ) -> None:
        if target.endpoint_url is None:
            raise ValueError("the OpenAI backend needs target.endpoint_url")
        self._url = f"{target.endpoint_url}/chat/completions"
        self._timeouts = timeouts
        self._pool_size = pool_size
        self._stream = stream
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        register_secrets(api_key)  # whatever a server echoes of it is redacted
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._pool_size),
            # The socket read timeout backs up the runner's own deadlines; it must not fire first.
            timeout=aiohttp.ClientTimeout(
                total=None, connect=self._timeouts.connect, sock_read=self._timeouts.total + 5
            ),
            headers=self._headers,
            trace_configs=[trace_config()],
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def execute(self, request: Request, timeline: Timeline) -> None:
        assert self._session is not None, "start() first"
        if not self._stream:
            timeline.expect_whole_response()
        try:
            with bound(timeline):
                async with self._session.post(self._url, json=self._body(request)) as response:
                    # OpenAI's own id header; else the response's `id` (read with the body).
                    timeline.server_request_id = response.headers.get(REQUEST_ID_HEADER)
                    if response.status >= 400:
                        await _fail_from_answer(response, timeline)
                        return
                    if self._stream:
                        await _read_stream(response, timeline)
                    else:
                        _read_completion(await response.json(content_type=None), timeline)
        except UnsupportedOption as exc:  # nothing was sent: the request asks the impossible
            timeline.fail(ErrorClass.CLIENT, "UnsupportedOption", describe(exc))
        except Exception as exc:  # every failure is classified; none may stop the run
            error = transport_class(exc) or ErrorClass.PROTOCOL
            timeline.fail(error, type(exc).__name__, describe(exc))

    def _body(self, request: Request) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": request.model,
            "messages": chat_messages(request),
            "max_tokens": request.max_tokens,
            "stream": self._stream,
        }
        if self._stream:
            body["stream_options"] = {"include_usage": True}
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.top_p is not None:
            body["top_p"] = request.top_p
        if request.prompt.ignore_eos:  # vLLM and SGLang's extension; synthetic prompts only
            body["ignore_eos"] = True
        body.update(chat_options(request))
        if request.options.additional_fields:
            body = merged(body, request.options.additional_fields)
        return body


# OpenAI's service_tier values for Bedrock's tiers; "reserved" has no counterpart.
_CHAT_TIERS = {"priority": "priority", "default": "default", "flex": "flex"}


def chat_options(request: Request) -> dict[str, Any]:
    """The request options as chat-completions fields: tools, tool_choice, reasoning_effort,
    service_tier. The chat API has no field for a cache point (OpenAI-compatible servers cache
    prefixes on their own), so `cache` adds nothing; latency, guardrail, a reasoning budget and
    the reserved tier have none either and are refused (UnsupportedOption)."""
    options = request.options
    fields: dict[str, Any] = {}
    if options.tools is not None:
        fields["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": spec["name"],
                    **({"description": spec["description"]} if spec.get("description") else {}),
                    "parameters": spec.get("input_schema") or {"type": "object"},
                },
            }
            for spec in options.tools.specs
        ]
        choice = options.tools.choice
        if choice == "auto":
            fields["tool_choice"] = "auto"
        elif choice == "any":
            fields["tool_choice"] = "required"
        elif choice is not None:
            fields["tool_choice"] = {"type": "function", "function": {"name": choice}}
    if options.reasoning is not None:
        if options.reasoning.effort is None:
            raise UnsupportedOption("the chat API takes a reasoning effort, not a token budget")
        fields["reasoning_effort"] = options.reasoning.effort
    if options.service_tier is not None:
        if options.service_tier not in _CHAT_TIERS:
            raise UnsupportedOption(f"the chat API has no service_tier {options.service_tier}")
        fields["service_tier"] = _CHAT_TIERS[options.service_tier]
    if options.latency is not None or options.guardrail is not None:
        raise UnsupportedOption("the chat API has no field for latency or guardrail")
    return fields


def chat_messages(request: Request) -> list[dict[str, Any]]:
    """System, history and this turn as chat messages: a Converse toolUse becomes an
    assistant tool call, a toolResult a `tool` message before the user's text."""
    prompt = request.prompt
    messages: list[dict[str, Any]] = []
    if prompt.system:
        messages.append({"role": "system", "content": prompt.system})
    for message in prompt.history:
        messages.extend(_chat_turn(message["role"], message["content"]))
    text = [{"text": prompt.user}] if prompt.user or not prompt.user_blocks else []
    messages.extend(_chat_turn("user", [*prompt.user_blocks, *text]))
    return messages


def _chat_turn(role: str, blocks: Any) -> list[dict[str, Any]]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for block in blocks:
        if "text" in block:
            texts.append(block["text"])
        elif "toolUse" in block:
            use = block["toolUse"]
            calls.append(
                {
                    "id": use["toolUseId"],
                    "type": "function",
                    "function": {"name": use["name"], "arguments": json.dumps(use["input"])},
                }
            )
        elif "toolResult" in block:
            result = block["toolResult"]
            results.append(
                {
                    "role": "tool",
                    "tool_call_id": result["toolUseId"],
                    "content": "".join(
                        part["text"] if "text" in part else json.dumps(part.get("json"))
                        for part in result.get("content") or ()
                    ),
                }
            )
        else:
            raise UnsupportedOption(f"a history block the chat API cannot carry: {sorted(block)}")
    turn: list[dict[str, Any]] = list(results)  # tool results answer the previous turn's calls
    if texts or calls:
        message: dict[str, Any] = {"role": role, "content": "".join(texts) if texts else None}
        if calls:
            message["tool_calls"] = calls
        turn.append(message)
    return turn


async def _read_stream(response: aiohttp.ClientResponse, timeline: Timeline) -> None:
    done = False
    async for data in sse_data(response.content):
        if data == DONE:
            done = True
            break
        chunk = json.loads(data)
        if "error" in chunk:  # vLLM and gateways report a failure mid-stream this way
            _fail_from_error(chunk["error"], None, timeline)
            return
        if timeline.server_request_id is None:
            timeline.server_request_id = chunk.get("id")
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if content:  # answer text: nearly every chunk, so tried first
                timeline.mark_content(content)
            else:
                # vLLM and DeepSeek name it reasoning_content, OpenRouter and Ollama reasoning.
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                if reasoning:
                    timeline.mark_reasoning(reasoning)
                elif delta.get("tool_calls"):
                    for call in delta["tool_calls"]:
                        function = call.get("function") or {}
                        # The first piece of a call names it (id, name); later ones add input.
                        timeline.mark_tool_use(
                            call.get("id"), function.get("name"), function.get("arguments") or ""
                        )
            if choice.get("finish_reason"):
                timeline.stop_reason = choice["finish_reason"]
        if chunk.get("usage"):
            _read_usage(chunk["usage"], timeline)
    timeline.mark_end()
    fail_incomplete(timeline, [] if done else [DONE])


def _read_completion(body: dict[str, Any], timeline: Timeline) -> None:
    timeline.mark_end()
    choices = body.get("choices")
    if not choices:
        timeline.fail(ErrorClass.PROTOCOL, "IncompleteResponse", "response without choices")
        return
    if timeline.server_request_id is None:
        timeline.server_request_id = body.get("id")
    timeline.stop_reason = choices[0].get("finish_reason")
    message = choices[0].get("message") or {}
    timeline.keep_text(message.get("content") or "")
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(reasoning, str):  # counted where usage gives no reasoning_tokens
        timeline.reasoning_chars += len(reasoning)
    if body.get("usage"):
        _read_usage(body["usage"], timeline)


def _read_usage(usage: dict[str, Any], timeline: Timeline) -> None:
    """Usage as Bedrock counts it, so that cost prices each token once: OpenAI's
    `prompt_tokens` includes the `cached_tokens` read from its cache, where Bedrock's
    `inputTokens` leaves cache reads out. The input tokens are the uncached ones."""
    prompt_tokens = usage.get("prompt_tokens")
    timeline.output_tokens = usage.get("completion_tokens")
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
    if reasoning is not None:
        timeline.reasoning_tokens = reasoning
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    if cached is not None and prompt_tokens is not None:
        cached = min(cached, prompt_tokens)  # a server that counts them apart: never below 0
        prompt_tokens -= cached
        timeline.cache_read_tokens = cached
    timeline.input_tokens = prompt_tokens


async def _fail_from_answer(response: aiohttp.ClientResponse, timeline: Timeline) -> None:
    text = await response.text(errors="replace")
    try:
        error = json.loads(text).get("error")
    except (json.JSONDecodeError, AttributeError):
        error = None
    if not isinstance(error, dict):
        error = {"message": redact_text(text)[:300]}  # redacted before cut: no half secrets
    _fail_from_error(error, response.status, timeline)


def _fail_from_error(error: Any, status: int | None, timeline: Timeline) -> None:
    error = error if isinstance(error, dict) else {"message": str(error)}
    code = error.get("code") or error.get("type")
    if status is None and isinstance(code, int):  # vLLM puts the status in a mid-stream error
        status = code
    if isinstance(code, str) and code:
        name = redact_text(code)[:200]  # the server's text; it reaches report.json
    else:
        name = f"HTTP{status}" if status is not None else "StreamError"
    if status is None:
        kind = ErrorClass.THROTTLED if "rate_limit" in name.lower() else ErrorClass.SERVER
    else:
        kind = status_class(status, name)
    timeline.fail(kind, name, redact_text(str(error.get("message", "")))[:500], status)
