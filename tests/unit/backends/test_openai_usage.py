"""The OpenAI backend's usage, normalised as Bedrock reports it: `prompt_tokens` includes the
cached tokens (`prompt_tokens_details.cached_tokens`), so the Sample's input tokens are the
uncached ones and the cached ones are cache reads, each counted once. A bare aiohttp server on
loopback answers with a fixed usage, streamed (SSE) and whole."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from loadgen.backends.apis import make_backend
from loadgen.config.scenario import TimeoutSpec
from loadgen.cost.accounting import sample_cost
from loadgen.cost.pricing import DEFAULT_REGION, PriceBook
from loadgen.engine.backend import Timeline
from loadgen.engine.request import Prompt, Request
from tests.conftest import ScenarioFactory
from tests.helpers import chat_server, started

# A 10k-token prompt of which 8k were read from the provider's cache, and 100 output tokens.
USAGE = {
    "prompt_tokens": 10_000,
    "completion_tokens": 100,
    "total_tokens": 10_100,
    "prompt_tokens_details": {"cached_tokens": 8_000},
}


@pytest.fixture
async def usage_server() -> AsyncIterator[str]:
    async def chat(request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if not body["stream"]:
            return web.json_response(
                {
                    "choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}],
                    "usage": USAGE,
                }
            )
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        chunks = [
            {"choices": [{"delta": {"content": "ok"}, "finish_reason": None}]},
            {"choices": [{"delta": {}, "finish_reason": "stop"}]},
            {"choices": [], "usage": USAGE},  # include_usage: the last chunk, no choices
        ]
        for chunk in chunks:
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        return response

    async with chat_server(chat) as url:
        yield url


@pytest.mark.parametrize("api", ["openai-chat", "openai-chat-nostream"])
async def test_cached_prompt_tokens_are_billed_once_as_cache_reads(
    api: str, usage_server: str, make_scenario: ScenarioFactory
) -> None:
    scenario = make_scenario(target={"api": api, "endpoint_url": usage_server})
    backend = make_backend(api, scenario.target, TimeoutSpec(), pool_size=1)
    request = Request(1, "amazon.nova-lite-v1:0", Prompt("r", None, "hi"), max_tokens=100)
    timeline = Timeline()
    async with started(backend):
        await backend.execute(request, timeline)
    assert timeline.error is None
    assert (timeline.input_tokens, timeline.cache_read_tokens) == (2_000, 8_000)
    assert timeline.output_tokens == 100
    sample = timeline.to_sample(
        request=request, t0_ns=0, intended_ns=0, dispatch_ns=0, warmup=False
    )
    nova_lite = PriceBook.builtin().resolve("amazon.nova-lite-v1:0", DEFAULT_REGION)
    # Nova Lite: 2,000 x 0.06 + 8,000 x 0.015 + 100 x 0.24 = 264 per 1M -> 0.000264 USD, not
    # 10,000 x 0.06 + 8,000 x 0.015 + 24 = 744 (the cached tokens charged twice).
    assert sample_cost(nova_lite, sample) == pytest.approx(0.000264)
