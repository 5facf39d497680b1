"""Every request option on the wire: loadgen's real clients (aioboto3 on both request paths,
the OpenAI backend, and OpenAI's own SDK for comparison) against a capturing HTTP server
written here, which records each request and answers it as Bedrock or an OpenAI server would.

The installed botocore's bedrock-runtime model predates `serviceTier` and
`CachePointBlock.ttl`: on the SDK path a request with them fails before it is sent, as a
client error that says so; the signed path sends them (docs/scenario.md "Request options on
the wire").
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from loadgen.backends.apis import make_backend
from loadgen.backends.bedrock_client import EMULATOR_CREDENTIALS
from loadgen.config.scenario import TargetSpec, TimeoutSpec
from loadgen.core.sample import ErrorClass
from loadgen.emulator.eventstream import event_frame
from loadgen.engine.backend import Timeline
from loadgen.engine.request import (
    CacheOption,
    GuardrailOption,
    Prompt,
    ReasoningOption,
    Request,
    RequestOptions,
    ToolOption,
)
from tests.helpers import serving, started

CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3"
WEATHER = {"name": "get_weather", "description": "d", "input_schema": {"type": "object"}}
HISTORY = (
    {"role": "user", "content": [{"text": "Weather?"}]},
    {
        "role": "assistant",
        "content": [{"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {}}}],
    },
)
RESULT = {"toolResult": {"toolUseId": "t1", "content": [{"text": "sunny"}]}}
PROMPT = Prompt(
    "r",
    "be brief",
    "SHARED PART then the rest",
    history=HISTORY,
    user_blocks=(RESULT,),
    prefix_chars=11,
)
CACHE_ALL = ("system", "tools", "prefix", "conversation")


def _options(*, newest: bool) -> RequestOptions:
    """Every option; `newest`: with the two fields only the newest service model has."""
    return RequestOptions(
        cache=CacheOption(places=CACHE_ALL, ttl="1h" if newest else None),
        reasoning=ReasoningOption(budget_tokens=1024),
        tools=ToolOption(specs=(WEATHER,), choice="auto"),
        service_tier="priority" if newest else None,
        latency="optimized",
        guardrail=GuardrailOption("gr-1", "3", trace="enabled"),
        additional_fields={"top_k": 7},
    )


@dataclass
class Captured:
    path: str  # as sent, percent-encoding included
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class CaptureServer:
    requests: list[Captured] = field(default_factory=list)
    status: int = 200

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.requests.append(
            Captured(
                request.raw_path,
                {k.lower(): v for k, v in request.headers.items()},
                json.loads(raw) if raw else {},
            )
        )
        request_id = {"x-amzn-RequestId": f"req-{len(self.requests)}"}
        if self.status != 200:
            return web.json_response(
                {"message": "slow down"},
                status=self.status,
                headers={**request_id, "x-amzn-ErrorType": "ThrottlingException:http://x"},
            )
        path = request.path
        if path.endswith("/converse-stream"):
            return await self._stream(request, request_id, _converse_events())
        if path.endswith("/invoke-with-response-stream"):
            return await self._stream(request, request_id, _anthropic_chunks())
        if path.endswith("/converse"):
            return web.json_response(_CONVERSE_ANSWER, headers=request_id)
        return web.json_response(_ANTHROPIC_ANSWER, headers=request_id)

    async def _stream(
        self, request: web.Request, headers: dict[str, str], frames: list[bytes]
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={**headers, "Content-Type": "application/vnd.amazon.eventstream"}
        )
        await response.prepare(request)
        for frame in frames:
            await response.write(frame)
        await response.write_eof()
        return response


_USAGE = {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7}
_CONVERSE_ANSWER = {
    "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}},
    "stopReason": "end_turn",
    "usage": _USAGE,
    "metrics": {"latencyMs": 3},
}
_ANTHROPIC_ANSWER = {
    "content": [{"type": "text", "text": "ok"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 5, "output_tokens": 2},
}


def _converse_events() -> list[bytes]:
    return [
        event_frame("messageStart", {"role": "assistant"}),
        event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "ok"}}),
        event_frame("messageStop", {"stopReason": "end_turn"}),
        event_frame("metadata", {"usage": _USAGE, "metrics": {"latencyMs": 3}}),
    ]


def _anthropic_chunks() -> list[bytes]:
    chunks: list[dict[str, Any]] = [
        {"type": "message_start", "message": {"usage": {"input_tokens": 5}}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "ok"}},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 2},
        },
        {
            "type": "message_stop",
            "amazon-bedrock-invocationMetrics": {"invocationLatency": 3, "firstByteLatency": 1},
        },
    ]
    return [
        event_frame("chunk", {"bytes": base64.b64encode(json.dumps(c).encode()).decode()})
        for c in chunks
    ]


@pytest.fixture
async def server() -> AsyncIterator[tuple[CaptureServer, str]]:
    capture = CaptureServer()
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", capture.handle)
    async with serving(app) as url:
        yield capture, url


async def _send(api: str, url: str, request_path: str, request: Request) -> Timeline:
    target = TargetSpec(endpoint_url=url, region="us-east-1", request_path=request_path)  # type: ignore[arg-type]
    backend = make_backend(
        api, target, TimeoutSpec(), pool_size=2, static_credentials=EMULATOR_CREDENTIALS
    )
    timeline = Timeline()
    async with started(backend):
        await backend.execute(request, timeline)
    return timeline


CONVERSE_APIS = ["bedrock-converse-stream", "bedrock-converse"]
INVOKE_APIS = ["bedrock-invoke-stream", "bedrock-invoke"]


@pytest.mark.parametrize("request_path", ["signed", "sdk"])
@pytest.mark.parametrize("api", CONVERSE_APIS)
async def test_converse_carries_every_option(
    server: tuple[CaptureServer, str], api: str, request_path: str
) -> None:
    capture, url = server
    newest = request_path == "signed"
    request = Request(1, CLAUDE, PROMPT, 2048, options=_options(newest=newest))
    timeline = await _send(api, url, request_path, request)
    assert timeline.error is None, timeline.error_message
    assert timeline.server_request_id == "req-1"
    [sent] = capture.requests
    body = sent.body
    point: dict[str, Any] = {"type": "default", **({"ttl": "1h"} if newest else {})}
    assert body["system"] == [{"text": "be brief"}, {"cachePoint": point}]
    assert body["toolConfig"]["tools"][-1] == {"cachePoint": point}
    assert body["toolConfig"]["toolChoice"] == {"auto": {}}
    assert body["messages"][1]["content"][-1] == {"cachePoint": point}
    assert body["messages"][2]["content"] == [
        RESULT,
        {"text": "SHARED PART"},
        {"cachePoint": point},
        {"text": " then the rest"},
    ]
    assert body["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "top_k": 7,
    }
    assert body["performanceConfig"] == {"latency": "optimized"}
    assert body["guardrailConfig"] == {
        "guardrailIdentifier": "gr-1",
        "guardrailVersion": "3",
        "trace": "enabled",
    }
    if newest:
        assert body["serviceTier"] == {"type": "priority"}


@pytest.mark.parametrize("request_path", ["signed", "sdk"])
@pytest.mark.parametrize("api", INVOKE_APIS)
async def test_invoke_model_carries_every_option(
    server: tuple[CaptureServer, str], api: str, request_path: str
) -> None:
    capture, url = server
    newest = request_path == "signed"
    request = Request(1, CLAUDE, PROMPT, 2048, options=_options(newest=newest))
    timeline = await _send(api, url, request_path, request)
    assert timeline.error is None, timeline.error_message
    assert timeline.server_request_id == "req-1"
    [sent] = capture.requests
    control: dict[str, Any] = {"type": "ephemeral", **({"ttl": "1h"} if newest else {})}
    assert sent.body["system"] == [{"type": "text", "text": "be brief", "cache_control": control}]
    assert sent.body["thinking"] == {"type": "enabled", "budget_tokens": 1024}
    assert sent.body["tools"] == [{**WEATHER, "cache_control": control}]
    assert sent.body["tool_choice"] == {"type": "auto"}
    assert sent.body["top_k"] == 7
    assert sent.body["messages"][2]["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "t1",
        "content": [{"type": "text", "text": "sunny"}],
    }
    assert sent.headers["x-amzn-bedrock-performanceconfig-latency"] == "optimized"
    assert sent.headers["x-amzn-bedrock-guardrailidentifier"] == "gr-1"
    assert sent.headers["x-amzn-bedrock-guardrailversion"] == "3"
    assert sent.headers["x-amzn-bedrock-trace"] == "ENABLED"
    if newest:
        assert sent.headers["x-amzn-bedrock-service-tier"] == "priority"


@pytest.mark.parametrize("api", CONVERSE_APIS + INVOKE_APIS)
async def test_the_sdk_path_refuses_a_field_its_botocore_lacks(
    server: tuple[CaptureServer, str], api: str
) -> None:
    capture, url = server
    request = Request(1, CLAUDE, PROMPT, 64, options=RequestOptions(service_tier="flex"))
    timeline = await _send(api, url, "sdk", request)
    assert (timeline.error, timeline.error_code) == (ErrorClass.CLIENT, "ParamValidationError")
    assert "request_path: signed" in (timeline.error_message or "")
    assert capture.requests == []  # refused before sending, never sent without the field


@pytest.mark.parametrize("request_path", ["signed", "sdk"])
@pytest.mark.parametrize("api", CONVERSE_APIS)
async def test_an_application_inference_profile_arn_is_the_encoded_path_label(
    server: tuple[CaptureServer, str], api: str, request_path: str
) -> None:
    capture, url = server
    request = Request(1, PROFILE_ARN, Prompt("r", None, "hi"), 64)
    timeline = await _send(api, url, request_path, request)
    assert timeline.error is None, timeline.error_message
    [sent] = capture.requests
    assert sent.path.startswith(
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3A"
        "application-inference-profile%2Fa1b2c3/"
    )


@pytest.mark.parametrize("request_path", ["signed", "sdk"])
@pytest.mark.parametrize("api", CONVERSE_APIS + INVOKE_APIS)
async def test_a_failed_requests_id_is_kept(
    server: tuple[CaptureServer, str], api: str, request_path: str
) -> None:
    capture, url = server
    capture.status = 429
    timeline = await _send(api, url, request_path, Request(1, CLAUDE, Prompt("r", None, "hi"), 8))
    assert (timeline.error, timeline.server_request_id) == (ErrorClass.THROTTLED, "req-1")


# --- OpenAI chat --------------------------------------------------------------------------


@dataclass
class ChatCapture:
    bodies: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.bodies.append(await request.json())
        return web.json_response(
            {
                "id": "chatcmpl-7",
                "choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
                "usage": {
                    "prompt_tokens": 5,
                    "completion_tokens": 9,
                    "completion_tokens_details": {"reasoning_tokens": 6},
                },
            },
            headers={"x-request-id": "oai-req-1"},
        )


async def test_openai_chat_carries_its_options_as_openais_sdk_sends_them() -> None:
    import openai

    capture = ChatCapture()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", capture.handle)
    options = RequestOptions(
        tools=ToolOption(specs=(WEATHER,), choice="get_weather"),
        reasoning=ReasoningOption(effort="medium"),
        service_tier="flex",
        additional_fields={"top_k": 7},
    )
    request = Request(1, "openai.gpt-oss-120b-1:0", PROMPT, 64, options=options)
    async with serving(app) as url:
        target = TargetSpec(endpoint_url=f"{url}/v1", api="openai-chat-nostream")
        timeline = Timeline()
        async with started(
            make_backend("openai-chat-nostream", target, TimeoutSpec(), pool_size=1)
        ) as backend:
            await backend.execute(request, timeline)
        ours = capture.bodies[-1]
        client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="unused")
        await client.chat.completions.create(
            model=ours["model"],
            messages=ours["messages"],
            max_tokens=64,
            stream=False,
            tools=[
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "description": "d",
                        "parameters": {"type": "object"},
                    },
                }
            ],
            tool_choice={"type": "function", "function": {"name": "get_weather"}},
            reasoning_effort="medium",
            service_tier="flex",
            extra_body={"top_k": 7},
        )
        await client.close()
    theirs = capture.bodies[-1]
    assert ours == theirs
    assert (timeline.server_request_id, timeline.reasoning_tokens) == ("oai-req-1", 6)
    assert [m["role"] for m in ours["messages"]] == ["system", "user", "assistant", "tool", "user"]
