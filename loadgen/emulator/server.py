"""The HTTP side: every Bedrock runtime API and OpenAI's chat completions over aiohttp, every
byte written on schedule.

Each request goes through the same steps whatever its API: read the body (the API's parser),
draw one plan (plan.py), check the model's quotas (quotas.py), draw the HTTP-level fault, wait
for a serving slot (capacity.py), then write the plan with the API's encoder, on time. The TTFT
clock starts when the handler begins, so time spent queueing for a slot is part of it. Deltas
are due at absolute instants (start + ttft + the sum of the gaps so far), never after chained
relative sleeps, so one late write does not push back the ones after it.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import random
import signal
import socket
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from loadgen.core.pacing import Pacer
from loadgen.emulator.apis.base import Api, StreamEncoder, Timing, json_object
from loadgen.emulator.apis.converse import ConverseApi
from loadgen.emulator.apis.invoke import InvokeApi
from loadgen.emulator.apis.openai_chat import OpenAIChatApi
from loadgen.emulator.capacity import Slots
from loadgen.emulator.eventstream import PADDING
from loadgen.emulator.options_plan import apply_options, option_rng
from loadgen.emulator.plan import DeltaKind, ParsedRequest, ResponsePlan, draw_plan
from loadgen.emulator.priority import raise_priority
from loadgen.emulator.profiles import (
    FAULT_KINDS,
    EmulatorConfig,
    FaultKind,
    Profile,
    QuotaPool,
    base_model_id,
    quota_pool,
)
from loadgen.emulator.prompt_cache import PromptCache
from loadgen.emulator.quotas import QuotaGate, TokenBucket, day_bucket
from loadgen.emulator.request_log import RequestLog
from loadgen.emulator.stop_reasons import stop_sequences, with_stop_outcome
from loadgen.emulator.tiers import FLEX_SHED_MESSAGE, queue_limit_for
from loadgen.emulator.validation import request_problem
from loadgen.emulator.wire import (
    HTTP_FAULTS,
    MIDWAY_HTTP_ERRORS,
    OVERLOADED,
    STREAM_EXCEPTIONS,
    THROTTLED_MESSAGES,
)

_MIDSTREAM: frozenset[FaultKind] = frozenset(
    {*STREAM_EXCEPTIONS, "cut_stream", "drop_connection", "bad_checksum"}
)
# `.+` lets an ARN's encoded '/' through; aiohttp hands the label over decoded (%3A → :).
ROUTES: tuple[tuple[str, Api], ...] = (
    ("/model/{modelId:.+}/converse-stream", ConverseApi(stream=True)),
    ("/model/{modelId:.+}/converse", ConverseApi(stream=False)),
    ("/model/{modelId:.+}/invoke-with-response-stream", InvokeApi(stream=True)),
    ("/model/{modelId:.+}/invoke", InvokeApi(stream=False)),
    ("/v1/chat/completions", OpenAIChatApi()),
)


def _ms(ns: int) -> int:
    return round(ns / 1_000_000)


@dataclass
class ModelState:
    """Per model id, as the client names it: its serving slots, and the quota pool it draws on
    (shared with every id of the same model and pool, as Bedrock's quotas are)."""

    gate: QuotaGate | None
    pool: QuotaPool
    slots: Slots
    cache: PromptCache  # the prefixes its requests' cache points wrote


class BedrockEmulator:
    """The application and its state: one seeded generator, one pacer, counters."""

    def __init__(
        self,
        config: EmulatorConfig,
        *,
        log_path: str | Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        # Generators of their own for what came after the plan's draws (stop outcomes, the
        # frames' padding), so that they leave each seed's plans as they were.
        self.outcome_rng = random.Random(f"outcomes:{config.seed}")
        PADDING.reseed(config.seed)
        self.pacer = Pacer()
        self.clock = clock
        self.log = RequestLog(log_path) if log_path is not None else None
        self.requests = 0
        self.completed = 0
        self.in_flight = 0
        self.invalid = 0
        self.faults: Counter[str] = Counter()
        self.by_api: Counter[str] = Counter()
        self.models: dict[str, ModelState] = {}
        # Quota pools by "pool:base model id", and each base model's tokens-per-day bucket.
        self.gates: dict[str, QuotaGate | None] = {}
        self.days: dict[str, TokenBucket | None] = {}

    def app(self) -> web.Application:
        app = web.Application()
        for path, api in ROUTES:
            app.router.add_post(path, self._handler(api))
        app.router.add_get("/_emulator/stats", self.stats_handler)
        app.router.add_post("/_emulator/reset-quotas", self.reset_quotas_handler)
        app.on_startup.append(self._on_startup)
        app.on_cleanup.append(self._on_cleanup)
        return app

    def _handler(self, api: Api) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self.handle(api, request)

        return handle

    async def _on_startup(self, app: web.Application) -> None:
        self.pacer.start()

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.pacer.stop()
        if self.log is not None:
            self.log.close()

    def _model(self, model_id: str, profile: Profile) -> ModelState:
        state = self.models.get(model_id)
        if state is None:
            pool = quota_pool(model_id)
            state = ModelState(
                self._gate(model_id, pool, profile),
                pool,
                Slots(self.config.capacity_for(profile)),
                PromptCache(self.clock, profile.cache_min_tokens),
            )
            self.models[model_id] = state
        return state

    def _gate(self, model_id: str, pool: QuotaPool, profile: Profile) -> QuotaGate | None:
        base = base_model_id(model_id)
        key = f"{pool}:{base}"
        if key not in self.gates:
            quota = self.config.quota_for(profile, pool)
            if quota is None:
                self.gates[key] = None
            else:
                if base not in self.days:
                    self.days[base] = day_bucket(quota, self.clock())
                self.gates[key] = QuotaGate(quota, self.clock, self.days[base])
        return self.gates[key]

    def stats(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "completed": self.completed,
            "in_flight": self.in_flight,
            "invalid": self.invalid,
            "faults": {kind: self.faults[kind] for kind in FAULT_KINDS},
            "lateness": self.pacer.lateness.summary(),
            "timer": self.pacer.mode,
            "apis": dict(self.by_api),
            "models": {
                model_id: {
                    "capacity": state.slots.stats(),
                    "quota_pool": state.pool,
                    "quota": state.gate.stats() if state.gate is not None else None,
                }
                for model_id, state in self.models.items()
            },
            "quota_pools": {
                key: gate.stats() for key, gate in self.gates.items() if gate is not None
            },
        }

    async def stats_handler(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())

    def reset_quotas(self) -> None:
        """Every quota bucket full again and its counts at zero, as at start: a fresh quota
        window (a sweep starts each stage from one). A request still in flight settles into
        the bucket that admitted it, which is dropped."""
        self.gates.clear()
        self.days.clear()
        for model_id, state in self.models.items():
            state.gate = self._gate(model_id, state.pool, self.config.profile_for(model_id))

    async def reset_quotas_handler(self, request: web.Request) -> web.Response:
        self.reset_quotas()
        pools = sorted(key for key, gate in self.gates.items() if gate is not None)
        return web.json_response({"reset": "quotas", "pools": pools})

    async def handle(self, api: Api, request: web.Request) -> web.StreamResponse:
        t0 = time.perf_counter_ns()
        self.requests += 1
        self.by_api[api.name] += 1
        request_id = str(uuid.uuid4())
        record: dict[str, Any] = {
            "request_id": request_id,
            "api": api.name,
            "received_unix": round(time.time(), 6),
        }
        try:
            return await self._serve(api, request, t0, request_id, record)
        finally:
            if self.log is not None:
                self.log.write(record)

    async def _serve(
        self, api: Api, request: web.Request, t0: int, request_id: str, record: dict[str, Any]
    ) -> web.StreamResponse:
        number = self.requests  # this request's place in arrival order, before any await
        raw = await request.read()
        try:
            parsed = api.parse(raw, request.match_info.get("modelId"), request.headers)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError included
            self.invalid += 1
            record.update(status=400, outcome="invalid")
            return api.error(400, "ValidationException", f"Malformed request: {exc}", request_id)
        body = json_object(raw)  # the parser has read it once already: valid JSON
        record["model"] = parsed.model_id
        base = self.config.profile_for(parsed.model_id)
        profile = base.variant(parsed.latency_optimized)
        # Every draw for this request happens now, in one block: same seed, same responses.
        plan = draw_plan(
            parsed, profile, self.rng, request_id, latency_optimized=profile is not base
        )
        plan = with_stop_outcome(
            plan,
            profile.stops,
            self.outcome_rng,
            has_stop_sequences=bool(stop_sequences(api.name, body)),
        )
        drawn_ttft_ns = plan.ttft_ns  # before the options: what an uncached prompt waits
        if parsed.options.any:  # options_plan.py: draws of its own, after the plan's
            points = parsed.options.cache_points
            cache = self._model(parsed.model_id, base).cache.lookup(points) if points else None
            rng = option_rng(self.config.seed, number)
            plan = apply_options(plan, parsed, profile, rng, cache)
        if self.log is not None:  # 50 rounded gaps a request: only when someone reads them
            record.update(plan.log_fields())
            if plan.cache is not None:  # the TTFT a cache read shortened, as drawn before it
                record["ttft_drawn_ms"] = round(drawn_ttft_ns / 1e6, 3)
        # After the draws (an invalid request takes its share, so the requests after it get
        # the same answers either way), before the quotas: Bedrock refuses it unmetered.
        problem = request_problem(
            api.name,
            parsed.native,
            body,
            profile,
            model_known=not self.config.strict_model_ids or self.config.knows(parsed.model_id),
        )
        if problem is not None:
            self.invalid += 1
            record.update(status=400, outcome="invalid")
            return api.error(400, "ValidationException", problem, request_id)
        model = self._model(parsed.model_id, base)
        gate = model.gate
        reserved = 0
        cache_write = plan.cache.write_tokens if plan.cache is not None else 0
        if gate is not None:
            # Without a max tokens in the request, Bedrock reserves the model's maximum.
            # Cache reads never count against the quota; cache writes do (quotas.py).
            reserved = gate.reservation(
                plan.input_tokens, parsed.max_tokens or profile.default_max_tokens, cache_write
            )
            record.update(quota_pool=model.pool, reserved_tokens=0, settled_tokens=0)
            refusal = gate.admit(reserved)
            if refusal is not None:
                record.update(status=429, outcome=f"throttled_{refusal}", fault=None)
                message = THROTTLED_MESSAGES[refusal]
                return api.error(429, "ThrottlingException", message, request_id)
            record["reserved_tokens"] = reserved
        try:
            return await self._admitted(api, request, parsed, plan, model, t0, record)
        finally:
            if gate is not None:
                # A response that began counts its whole output (a fault may have cut it
                # short, but Bedrock's settlement of those is not documented); errors, none.
                output = plan.output_tokens if record.get("status") == 200 else 0
                used = gate.usage(plan.input_tokens, output, cache_write)
                gate.settle(reserved, used)
                record["settled_tokens"] = used

    async def _admitted(
        self,
        api: Api,
        request: web.Request,
        parsed: ParsedRequest,
        plan: ResponsePlan,
        model: ModelState,
        t0: int,
        record: dict[str, Any],
    ) -> web.StreamResponse:
        fault = plan.fault
        slots = model.slots
        if fault is not None:
            self.faults[fault] += 1
        if fault is not None and fault in HTTP_FAULTS:
            status, code, message = HTTP_FAULTS[fault]
            record.update(status=status, outcome="fault")
            return api.error(status, code, message, plan.request_id)
        if not await self._acquire(slots, plan):
            if plan.service_tier == "flex":  # shed first near saturation (tiers.py)
                record.update(status=429, outcome="shed")
                return api.error(429, "ThrottlingException", FLEX_SHED_MESSAGE, plan.request_id)
            record.update(status=OVERLOADED[0], outcome="overloaded")
            return api.error(*OVERLOADED, plan.request_id)
        if plan.cache is not None:
            model.cache.store(plan.cache)
        try:
            start = time.perf_counter_ns()
            slots.record_wait(start - t0)
            record["queue_wait_ms"] = round((start - t0) / 1e6, 3)
            encoder = api.streamer(parsed, plan)
            if encoder is None:
                return await self._whole(api, request, parsed, plan, t0, start, record)
            return await self._stream(request, encoder, plan, t0, start, record)
        finally:
            slots.release()

    async def _acquire(self, slots: Slots, plan: ResponsePlan) -> bool:
        """A serving slot, by the rules of the tier asked for (tiers.py) when one was."""
        tier = plan.service_tier
        if tier is None:
            return await slots.acquire()
        profile = self.config.profile_for(plan.model_id)
        limit = queue_limit_for(
            tier, slots.queue_limit, profile.flex_shed_fraction, profile.priority_headroom
        )
        return await slots.acquire_tiered(limit, ahead=tier == "priority")

    async def _stream(
        self,
        request: web.Request,
        encoder: StreamEncoder,
        plan: ResponsePlan,
        t0: int,
        start: int,
        record: dict[str, Any],
    ) -> web.StreamResponse:
        fault = plan.fault
        response = web.StreamResponse(
            headers={**encoder.headers, "x-amzn-RequestId": plan.request_id}
        )
        response.enable_chunked_encoding()
        record.update(status=200, outcome="fault" if fault in _MIDSTREAM else "client_gone")
        self.in_flight += 1
        try:
            await response.prepare(request)
            await response.write(encoder.start())
            firsts: dict[DeltaKind, int] = {}
            first = await self._deltas(request, response, encoder, plan, plan.due(start), firsts)
            if first is not None:
                now = time.perf_counter_ns()
                timing = Timing(latency_ms=_ms(now - t0), first_byte_ms=_ms(first - t0))
                # What it actually did, its own lateness included: a client's TTFT is checked
                # against this, not against the plan (benchmarks/accuracy_w1.py).
                record["first_write_ms"] = round((first - t0) / 1e6, 3)
                if plan.reasoning_texts and "text" in firsts:
                    # The reasoning time it actually took: first_answer_write_ms minus
                    # first_write_ms, both stamped once their write returned.
                    record["first_answer_write_ms"] = round((firsts["text"] - t0) / 1e6, 3)
                await response.write(encoder.end(timing))
                self.completed += 1
                record["outcome"] = "ok" if fault is None else "fault"
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
        encoder: StreamEncoder,
        plan: ResponsePlan,
        due: list[int],
        firsts: dict[DeltaKind, int],
    ) -> int | None:
        """Write the deltas on schedule: the instant of the first one, or None when a fault
        ended the stream early; `firsts` gets the instant of the first write of each kind."""
        fault = plan.fault
        pieces = plan.pieces()  # reasoning, text and tool-input deltas, in order
        fault_at = len(pieces) // 2 if fault in _MIDSTREAM else -1
        first: int | None = None
        for index, ((kind, text), due_ns) in enumerate(zip(pieces, due, strict=True)):
            await self.pacer.sleep_until(due_ns)
            if index == fault_at and fault is not None:
                if fault in STREAM_EXCEPTIONS:
                    await response.write(encoder.exception(fault))
                    return None
                if fault == "cut_stream":
                    return None  # a clean end of the HTTP response, no stop/metadata
                if fault == "drop_connection":
                    if request.transport is not None:
                        request.transport.abort()  # RST mid-body: the client sees a cut payload
                    return None
            corrupt = index == fault_at and fault == "bad_checksum"
            await response.write(encoder.delta(text, corrupt=corrupt, kind=kind))
            written = time.perf_counter_ns()
            firsts.setdefault(kind, written)
            if first is None:
                first = written
        return first if first is not None else time.perf_counter_ns()

    async def _whole(
        self,
        api: Api,
        request: web.Request,
        parsed: ParsedRequest,
        plan: ResponsePlan,
        t0: int,
        start: int,
        record: dict[str, Any],
    ) -> web.StreamResponse:
        """A non-streaming response: the whole body once the last token is due. Mid-stream
        faults strike halfway through the generation time, in this API's own way."""
        fault = plan.fault
        due = plan.due(start)
        self.in_flight += 1
        try:
            if fault is not None and (fault in MIDWAY_HTTP_ERRORS or fault == "drop_connection"):
                await self.pacer.sleep_until(due[len(due) // 2])
                record["outcome"] = "fault"
                if fault == "drop_connection":
                    record["status"] = None
                    if request.transport is not None:
                        request.transport.abort()
                    return web.Response(status=500)  # never reaches the client
                status, code, message = MIDWAY_HTTP_ERRORS[fault]
                record["status"] = status
                return api.error(status, code, message, plan.request_id)
            await self.pacer.sleep_until(due[-1])
            timing = Timing(latency_ms=_ms(time.perf_counter_ns() - t0), first_byte_ms=None)
            body, headers = api.body(parsed, plan, timing)
            headers["x-amzn-RequestId"] = plan.request_id
            record.update(status=200, outcome="ok" if fault is None else "fault")
            if fault == "bad_checksum":
                body = body[: len(body) // 2]  # a body that is not valid JSON
            if fault == "cut_stream":
                return await self._cut_body(request, body, headers)
            self.completed += 1
            return web.Response(body=body, headers=headers)
        finally:
            self.in_flight -= 1

    async def _cut_body(
        self, request: web.Request, body: bytes, headers: dict[str, str]
    ) -> web.StreamResponse:
        """Content-Length promises the whole body; half of it comes, then the connection
        closes."""
        response = web.StreamResponse(headers=headers)
        response.content_length = len(body)
        try:
            await response.prepare(request)
            await response.write(body[: len(body) // 2])
        except ConnectionError:
            pass
        if request.transport is not None:
            request.transport.close()
        return response


MAX_PORT = 65535


class EmulatorBindError(Exception):
    """The emulator cannot listen where it was asked: the port is in use, out of range or
    privileged, or the host is not an address of this machine. A usage error: its message
    says what to do, and the command exits 2 (`loadgen emulate`, `python -m loadgen.emulator`).
    """

    exit_code = 2


def check_port(port: int) -> None:
    if not 0 <= port <= MAX_PORT:
        raise EmulatorBindError(
            f"port {port} is not a TCP port: give one from 1 to {MAX_PORT}, or 0 for a free one"
        )


def bind_error(host: str, port: int, exc: OSError) -> EmulatorBindError:
    """What to say when listening on host:port failed with `exc`, and what to do instead."""
    if isinstance(exc, socket.gaierror):
        reason = (
            f"{host!r} is not a host name or address this machine can resolve "
            f"({exc.strerror}); give an IP address such as 127.0.0.1, or 0.0.0.0 for every "
            "interface"
        )
    elif exc.errno == errno.EADDRINUSE:
        reason = (
            f"port {port} is in use (another emulator or server listens there); pick another "
            "--port, or --port 0 for a free one"
        )
    elif exc.errno == errno.EADDRNOTAVAIL:
        reason = (
            f"{host} is not an address of this machine; use 127.0.0.1, 0.0.0.0 (every "
            "interface) or one of the machine's own addresses"
        )
    elif exc.errno == errno.EACCES:
        reason = (
            f"no permission to listen on port {port} (ports below 1024 need privileges); "
            "pick a port from 1024 up, or --port 0 for a free one"
        )
    else:
        reason = exc.strerror or str(exc)
    return EmulatorBindError(f"the emulator cannot listen on {host}:{port}: {reason}")


class Emulator:
    """The emulator in the current event loop, on a real socket."""

    def __init__(
        self,
        config: EmulatorConfig,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log_path: str | Path | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.state = BedrockEmulator(config, log_path=log_path)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen; EmulatorBindError when the host or port cannot be had."""
        check_port(self.port)
        # stop() lets streams in flight finish for up to a second, then cuts them.
        runner = web.AppRunner(self.state.app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise bind_error(self.host, self.port, exc) from None
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


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    config: EmulatorConfig | None = None,
    *,
    log_path: str | Path | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM, with raised priority where the system allows it.
    EmulatorBindError when it cannot listen on host:port."""
    check_port(port)
    raise_priority()
    with asyncio.Runner(loop_factory=_loop_factory()) as runner:
        config = config if config is not None else EmulatorConfig()
        runner.run(_serve(host, port, config, log_path))


async def _serve(host: str, port: int, config: EmulatorConfig, log_path: str | Path | None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with Emulator(config, host, port, log_path=log_path) as emulator:
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
        import uvloop  # optional: not built for Windows
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory
