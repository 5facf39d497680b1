"""The HTTP side: Bedrock's ConverseStream over aiohttp, every frame written on schedule.

The TTFT clock starts when the handler begins. Deltas are due at absolute instants
(t0 + ttft + the sum of the gaps so far), never after chained relative sleeps, so one late
write does not push back the ones after it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiohttp import web

from loadgen.emulator.eventstream import event_frame, exception_frame
from loadgen.emulator.pacing import Pacer
from loadgen.emulator.priority import raise_priority
from loadgen.emulator.profiles import FAULT_KINDS, EmulatorConfig, FaultKind
from loadgen.emulator.wire import (
    EVENTSTREAM_CONTENT_TYPE,
    HTTP_FAULTS,
    STREAM_EXCEPTIONS,
    error_response,
    input_tokens,
    max_tokens,
)

_MIDSTREAM: frozenset[FaultKind] = frozenset(
    {*STREAM_EXCEPTIONS, "cut_stream", "drop_connection", "bad_checksum"}
)


class BedrockEmulator:
    """The application and its state: one seeded generator, one pacer, counters."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.pacer = Pacer()
        self.requests = 0
        self.completed = 0
        self.in_flight = 0
        self.faults: Counter[str] = Counter()

    def app(self) -> web.Application:
        app = web.Application()
        # `.+` lets an ARN's encoded '/' through; aiohttp hands the label over decoded (%3A → :).
        app.router.add_post("/model/{modelId:.+}/converse-stream", self.converse_stream)
        app.router.add_get("/_emulator/stats", self.stats_handler)
        app.on_startup.append(self._on_startup)
        app.on_cleanup.append(self._on_cleanup)
        return app

    async def _on_startup(self, app: web.Application) -> None:
        self.pacer.start()

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.pacer.stop()

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "completed": self.completed,
            "in_flight": self.in_flight,
            "faults": {kind: self.faults[kind] for kind in FAULT_KINDS},
            "lateness": self.pacer.lateness.summary(),
            "timer": self.pacer.mode,
        }

    async def stats_handler(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    async def converse_stream(self, request: web.Request) -> web.StreamResponse:
        t0 = time.perf_counter_ns()
        self.requests += 1
        request_id = str(uuid.uuid4())
        try:
            body = json.loads(await request.read())
            if not isinstance(body, dict):
                raise ValueError("the request body must be a JSON object")
            limit = max_tokens(body)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError included
            return error_response(
                400, "ValidationException", f"Malformed request: {exc}", request_id
            )
        profile = self.config.profile_for(request.match_info["modelId"])
        fault = profile.faults.draw(self.rng)
        if fault is not None:
            self.faults[fault] += 1
            if fault in HTTP_FAULTS:
                return error_response(*HTTP_FAULTS[fault], request_id)
        # Every draw for this request happens now, in one block: same seed, same responses.
        output_tokens, stop_reason = profile.draw_output_tokens(self.rng, limit)
        texts = profile.deltas(output_tokens)
        first = t0 + profile.draw_ttft_ns(self.rng)
        if fault == "stall":
            first += round(profile.faults.stall_ms * 1_000_000)
        due = [first]
        for _ in range(len(texts) - 1):
            due.append(due[-1] + profile.draw_itl_ns(self.rng))
        prompt_tokens = input_tokens(body)
        usage = {
            "inputTokens": prompt_tokens,
            "outputTokens": output_tokens,
            "totalTokens": prompt_tokens + output_tokens,
        }

        response = web.StreamResponse(
            headers={
                "Content-Type": EVENTSTREAM_CONTENT_TYPE,
                "x-amzn-RequestId": request_id,
            }
        )
        response.enable_chunked_encoding()
        self.in_flight += 1
        try:
            await response.prepare(request)
            await response.write(event_frame("messageStart", {"role": "assistant"}))
            if await self._deltas(request, response, texts, due, fault):
                trailer = [
                    event_frame("contentBlockStop", {"contentBlockIndex": 0}),
                    event_frame("messageStop", {"stopReason": stop_reason}),
                ]
                latency_ms = round((time.perf_counter_ns() - t0) / 1_000_000)
                metrics = {"latencyMs": latency_ms}
                trailer.append(event_frame("metadata", {"usage": usage, "metrics": metrics}))
                await response.write(b"".join(trailer))
                self.completed += 1
            if fault != "drop_connection":
                await response.write_eof()
        except ConnectionError:
            pass  # the client went away (or gave up after a fault): nothing left to send
        finally:
            self.in_flight -= 1
        return response

    async def _deltas(
        self,
        request: web.Request,
        response: web.StreamResponse,
        texts: list[str],
        due: list[int],
        fault: FaultKind | None,
    ) -> bool:
        """Write the deltas on schedule; False when a fault ended the stream early."""
        fault_at = len(texts) // 2 if fault in _MIDSTREAM else -1
        for index, (text, due_ns) in enumerate(zip(texts, due, strict=True)):
            await self.pacer.sleep_until(due_ns)
            if index == fault_at and fault is not None:
                if fault in STREAM_EXCEPTIONS:
                    await response.write(exception_frame(*STREAM_EXCEPTIONS[fault]))
                    return False
                if fault == "cut_stream":
                    return False  # a clean end of the HTTP response, no messageStop/metadata
                if fault == "drop_connection":
                    if request.transport is not None:
                        request.transport.abort()  # RST mid-body: the client sees a cut payload
                    return False
            payload = {"contentBlockIndex": 0, "delta": {"text": text}}
            corrupt = index == fault_at and fault == "bad_checksum"
            await response.write(event_frame("contentBlockDelta", payload, corrupt_crc=corrupt))
        return True


class Emulator:
    """The emulator in the current event loop, on a real socket."""

    def __init__(self, config: EmulatorConfig, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self.state = BedrockEmulator(config)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        # stop() lets streams in flight finish for up to a second, then cuts them.
        runner = web.AppRunner(self.state.app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = runner.addresses[0][1]  # the real port when 0 asked for a free one

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


def serve(host: str = "127.0.0.1", port: int = 0, config: EmulatorConfig | None = None) -> None:
    """Serve until SIGINT or SIGTERM, with raised priority where the system allows it."""
    raise_priority()
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        runner.run(_serve(host, port, config if config is not None else EmulatorConfig()))


async def _serve(host: str, port: int, config: EmulatorConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with Emulator(config, host, port) as emulator:
        # A full collection walks every object loaded at start-up (~20 ms on a small machine,
        # a stall in the middle of some response): freeze them, so that collections during
        # the run only look at what the run allocated.
        gc.collect()
        gc.freeze()
        print(f"loadgen emulator listening on {emulator.url}", flush=True)
        await stop.wait()


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop where installed: less CPU per event, so more headroom before writes run late."""
    try:
        import uvloop
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory
