"""`ignore_eos` of a synthetic dataset reaches an OpenAI-compatible server's request body, and
only when asked. A bare aiohttp server on loopback records the bodies it gets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from loadgen.backends.apis import make_backend
from loadgen.engine.backend import Timeline
from loadgen.engine.request import Prompt, Request
from tests.conftest import ScenarioFactory
from tests.helpers import CHAT_OK, chat_server, started


@pytest.fixture
async def recording_server() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    bodies: list[dict[str, Any]] = []

    async def chat(request: web.Request) -> web.Response:
        bodies.append(await request.json())
        return web.json_response(CHAT_OK)

    async with chat_server(chat) as url:
        yield url, bodies


async def test_ignore_eos_is_sent_only_when_the_prompt_asks(
    recording_server: tuple[str, list[dict[str, Any]]], make_scenario: ScenarioFactory
) -> None:
    url, bodies = recording_server
    scenario = make_scenario(target={"api": "openai-chat-nostream", "endpoint_url": url})
    backend = make_backend(scenario.target.api, scenario.target, scenario.timeouts, pool_size=1)
    async with started(backend):
        for ignore in (True, False):
            prompt = Prompt("s1", None, "hello", input_tokens=2, output_tokens=9, ignore_eos=ignore)
            await backend.execute(Request(1, "m", prompt, max_tokens=9), Timeline())
    assert bodies[0]["ignore_eos"] is True and bodies[0]["max_tokens"] == 9
    assert "ignore_eos" not in bodies[1]
