"""The OpenAI backend's key: sent as a Bearer token, refused keys named by preflight, and never
written anywhere. A bare aiohttp server on loopback stands in for a server that checks keys
(the emulator does not)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from loadgen.backends.apis import make_backend
from loadgen.core.errors import PreflightError
from loadgen.run.preflight import check_models
from tests.conftest import ScenarioFactory
from tests.helpers import CHAT_OK, chat_server, started

KEY = "sk-right-key-0123456789"


@pytest.fixture
async def keyed_server() -> AsyncIterator[str]:
    async def chat(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            error = {"message": "Incorrect API key provided", "type": "invalid_request_error"}
            return web.json_response({"error": {**error, "code": "invalid_api_key"}}, status=401)
        return web.json_response(CHAT_OK)

    async with chat_server(chat) as url:
        yield url


@pytest.mark.parametrize("key", ["sk-wrong-key-0000", KEY])
async def test_key_is_sent_and_a_refused_key_stops_preflight(
    key: str,
    keyed_server: str,
    make_scenario: ScenarioFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOADGEN_TEST_KEY", key)
    scenario = make_scenario(
        target={
            "api": "openai-chat-nostream",
            "endpoint_url": keyed_server,
            "api_key_env": "LOADGEN_TEST_KEY",
        }
    )
    backend = make_backend(scenario.target.api, scenario.target, scenario.timeouts, pool_size=2)
    async with started(backend):
        if key == KEY:
            await check_models(backend, ["fixed-model"], keyed_server)
            return
        with pytest.raises(PreflightError) as caught:
            await check_models(backend, ["fixed-model"], keyed_server)
    message = str(caught.value)
    assert "HTTP 401 invalid_api_key" in message and "api_key_env" in message
    assert key not in message
