"""A server that echoes credentials back, in every form, through the real backends: nothing of
them reaches a request's error message or code. Bare aiohttp servers on loopback stand in for
a misbehaving gateway (the emulator echoes nothing)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote, quote_plus

import botocore.exceptions
import pytest
from aiohttp import web

from loadgen.backends.apis import make_backend
from loadgen.backends.bedrock_client import classify
from loadgen.config.scenario import TimeoutSpec
from loadgen.core.redact import forget_secrets
from loadgen.engine.backend import Backend, Timeline
from loadgen.engine.request import Prompt, Request
from tests.conftest import FAKE_KEY_ID, FAKE_SECRET, ScenarioFactory
from tests.helpers import serving

API_KEY = "loadgen-test-key/with+chars=0123456789"
SESSION_TOKEN = "FakeSessionTokenForTests/abcdefghijklmnopqrstuvwxyz0123456789+=="


def forms(value: str) -> list[str]:
    return [value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]]


def leaks(text: str | None, *secrets: str) -> list[str]:
    return [form for secret in secrets for form in forms(secret) if form in (text or "")]


@pytest.fixture(autouse=True)
def empty_registry() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


def echo_of(request: web.Request, *extra: str) -> str:
    """What a careless server might say back: the credential headers first (a message is kept
    to 500 characters), the key in other forms, then every header as JSON."""
    auth = request.headers.get("Authorization", "")
    token = request.headers.get("X-Amz-Security-Token", "")
    headers = json.dumps(dict(request.headers))
    return " ".join(
        ["rejected;", *extra, f"token={quote(token, safe='')}; Authorization: {auth}", headers]
    )


@pytest.fixture
async def openai_echo() -> AsyncIterator[str]:
    async def chat(request: web.Request) -> web.StreamResponse:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        mode = request.query.get("mode") or request.path.split("/")[1]
        if mode == "json":
            error = {"message": echo_of(request, quote(key, safe=""), key), "code": key}
            return web.json_response({"error": error}, status=401)
        if mode == "text":
            # Not JSON: loadgen keeps the first 300 characters; the key straddles the cut.
            return web.Response(text="x" * 290 + key + " " + "y" * 50, status=500)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        error = {"message": f"upstream said: Authorization: Bearer {key}", "code": 400}
        await response.write(f"data: {json.dumps({'error': error})}\n\n".encode())
        return response

    app = web.Application()
    for mode in ("json", "text", "stream"):
        app.router.add_post(f"/{mode}/v1/chat/completions", chat)
    async with serving(app) as url:
        yield url


def request() -> Request:
    return Request(0, "m", Prompt("r", None, "hello"), max_tokens=8)


async def execute(backend: Backend) -> Timeline:
    timeline = Timeline()
    await backend.start()
    try:
        await backend.execute(request(), timeline)
    finally:
        await backend.close()
    return timeline


@pytest.mark.parametrize("mode", ["json", "text", "stream"])
async def test_an_openai_key_echoed_back_is_never_recorded(
    mode: str,
    openai_echo: str,
    make_scenario: ScenarioFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOADGEN_TEST_KEY", API_KEY)
    api = "openai-chat" if mode == "stream" else "openai-chat-nostream"
    target = make_scenario(
        target={
            "api": api,
            "endpoint_url": f"{openai_echo}/{mode}/v1",
            "api_key_env": "LOADGEN_TEST_KEY",
        }
    ).target
    backend = make_backend(api, target, TimeoutSpec(), pool_size=1)
    timeline = await execute(backend)
    assert timeline.error is not None and timeline.error_message
    assert "[redacted]" in timeline.error_message
    assert leaks(timeline.error_message, API_KEY) == []
    assert leaks(timeline.error_code, API_KEY) == []
    # Redacted before it is cut to length: no head of the key is left either.
    assert API_KEY[:12] not in timeline.error_message
    # The key itself was sent (the server saw it): it is the echo that is redacted.
    assert len(API_KEY) > 20 and len(timeline.error_message) > 20


@pytest.fixture
async def bedrock_echo() -> AsyncIterator[str]:
    """Answers every Bedrock call 403, as a proxy that echoes the signed request would."""

    async def deny(request: web.Request) -> web.Response:
        message = echo_of(request, f"(configured secret {quote(FAKE_SECRET, safe='')})")
        return web.json_response(
            {"message": message},
            status=403,
            headers={"x-amzn-ErrorType": "UnrecognizedClientException:http://internal/"},
        )

    app = web.Application()
    app.router.add_post("/{tail:.*}", deny)
    async with serving(app) as url:
        yield url


@pytest.mark.parametrize("request_path", ["signed", "sdk"])
@pytest.mark.parametrize("api", ["bedrock-converse-stream", "bedrock-converse"])
async def test_aws_credentials_echoed_back_are_never_recorded(
    request_path: str,
    api: str,
    bedrock_echo: str,
    aws_env: dict[str, str],
    make_scenario: ScenarioFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    target = make_scenario(
        target={"api": api, "endpoint_url": bedrock_echo, "request_path": request_path}
    ).target
    timeline = await execute(make_backend(api, target, TimeoutSpec(), pool_size=1))
    assert timeline.error_code == "UnrecognizedClientException"
    assert timeline.http_status == 403
    message = timeline.error_message or ""
    assert message.startswith("ClientError: An error occurred (UnrecognizedClientException)")
    assert "rejected; (configured secret " in message  # the echo itself is kept
    assert leaks(message, FAKE_KEY_ID, FAKE_SECRET, SESSION_TOKEN) == []


def test_a_server_error_code_is_redacted_too() -> None:
    response = {
        "Error": {"Code": f"Denied{FAKE_KEY_ID}", "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }
    error = botocore.exceptions.ClientError(response, "ConverseStream")  # type: ignore[arg-type]
    _, code, status = classify(error)
    assert FAKE_KEY_ID not in code and code.startswith("Denied")
    assert status == 403
