"""aiohttp trace hooks that put `send` and the connection-pool wait on a request's Timeline.

Every backend sends through an aiohttp session carrying `trace_config()`, and runs each request
inside `bound(timeline)`: the hooks run inside the request's task, so a context variable routes
each hook to the right timeline without locking.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from typing import Any

import aiohttp

from loadgen.engine.backend import Timeline

_current: contextvars.ContextVar[Timeline | None] = contextvars.ContextVar(
    "loadgen_timeline", default=None
)


@contextlib.contextmanager
def bound(timeline: Timeline) -> Iterator[None]:
    """Route the trace hooks of requests sent inside this block to `timeline`."""
    token = _current.set(timeline)
    try:
        yield
    finally:
        _current.reset(token)


async def _on_chunk_sent(
    session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceRequestChunkSentParams
) -> None:
    # aiohttp buffers the headers and writes them with the body, from a task of its own that
    # may run a loop iteration later: the request has left when its last body chunk is
    # written, so each chunk moves `send` forward.
    timeline = _current.get()
    if timeline is not None:
        timeline.send_ns = time.perf_counter_ns()


async def _on_queued_start(
    session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceConnectionQueuedStartParams
) -> None:
    timeline = _current.get()
    if timeline is not None:
        timeline.pool_queued_ns = time.perf_counter_ns()


async def _on_queued_end(
    session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceConnectionQueuedEndParams
) -> None:
    timeline = _current.get()
    if timeline is not None and timeline.pool_queued_ns is not None:
        timeline.pool_wait_ns = time.perf_counter_ns() - timeline.pool_queued_ns


def trace_config() -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()
    trace.on_request_chunk_sent.append(_on_chunk_sent)
    trace.on_connection_queued_start.append(_on_queued_start)
    trace.on_connection_queued_end.append(_on_queued_end)
    return trace
