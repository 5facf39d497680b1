"""The stream path fed malformed bytes: no hang, no crash, every case classified.

A tiny aiohttp server answers ConverseStream with whatever body the example asks for; the real
Bedrock backend (aioboto3) reads it. Valid frames come from the emulator's encoder, which
shares no code with botocore's decoder.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loadgen.backends.bedrock import EMULATOR_CREDENTIALS, BedrockBackend
from loadgen.config.scenario import TargetSpec, TimeoutSpec
from loadgen.core.sample import ErrorClass
from loadgen.emulator.eventstream import event_frame, exception_frame
from loadgen.engine.backend import Timeline
from loadgen.engine.request import Prompt, Request

VALID = b"".join(
    [
        event_frame("messageStart", {"role": "assistant"}),
        *(
            event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "w "}})
            for _ in range(3)
        ),
        event_frame("contentBlockStop", {"contentBlockIndex": 0}),
        event_frame("messageStop", {"stopReason": "end_turn"}),
        event_frame(
            "metadata",
            {
                "usage": {"inputTokens": 3, "outputTokens": 3, "totalTokens": 6},
                "metrics": {"latencyMs": 5},
            },
        ),
    ]
)

bodies = st.one_of(
    st.binary(max_size=400),
    st.integers(0, len(VALID) - 1).map(lambda cut: VALID[:cut]),
    st.tuples(st.integers(0, len(VALID) - 1), st.integers(1, 255)).map(
        lambda flip: VALID[: flip[0]] + bytes([VALID[flip[0]] ^ flip[1]]) + VALID[flip[0] + 1 :]
    ),
    st.sampled_from(
        [
            VALID,
            exception_frame("throttlingException", "slow down"),
            exception_frame("madeUpException", "?"),
            event_frame("unknownEvent", {"x": 1}),
        ]
    ),
)


class FuzzServer:
    def __init__(self) -> None:
        self.body = b""
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(
            headers={"Content-Type": "application/vnd.amazon.eventstream"}
        )
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(self.body)
        await response.write_eof()
        return response

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/model/{model}/converse-stream", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = self.runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest.fixture
def loop() -> Iterator[asyncio.Runner]:
    with asyncio.Runner() as runner:
        yield runner


@pytest.mark.parametrize(
    ("decoder", "request_path"), [("sdk", "sdk"), ("lean", "sdk"), ("lean", "signed")]
)
def test_malformed_streams_are_classified(
    loop: asyncio.Runner, decoder: str, request_path: str
) -> None:
    server = FuzzServer()
    loop.run(server.start())
    backend = BedrockBackend(
        TargetSpec(
            endpoint_url=server.url,
            region="us-east-1",
            stream_decoder=decoder,
            request_path=request_path,
        ),
        TimeoutSpec(),
        pool_size=4,
        static_credentials=EMULATOR_CREDENTIALS,
    )
    loop.run(backend.start())
    request = Request(0, "fuzz-model", Prompt("r", None, "hi"), max_tokens=10)

    async def one(body: bytes) -> Timeline:
        server.body = body
        timeline = Timeline()
        async with asyncio.timeout(10):  # a hang fails the test
            await backend.execute(request, timeline)
        return timeline

    @settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
    @given(bodies)
    def check(body: bytes) -> None:
        timeline = loop.run(one(body))
        assert timeline.end_ns is not None
        if body == VALID:
            assert timeline.error is None and timeline.output_tokens == 3
        else:
            assert timeline.error in set(ErrorClass), body
            assert timeline.error_code

    try:
        check()
    finally:
        with contextlib.suppress(Exception):
            loop.run(backend.close())
        loop.run(server.stop())
