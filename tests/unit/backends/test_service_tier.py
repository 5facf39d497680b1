"""The tier that served a request, read from Converse's response or ConverseStream's metadata
event (bedrock-runtime's ServiceTier: {"type": "default" | "priority" | "flex" | "reserved"}),
and carried to the Sample the cost is computed from."""

from __future__ import annotations

import asyncio
from typing import Any

from loadgen.backends.bedrock import read_converse_metadata
from loadgen.backends.lean_eventstream import lean_events
from loadgen.emulator.eventstream import event_frame
from loadgen.engine.backend import Timeline
from loadgen.engine.request import Prompt, Request

METADATA = {"usage": {"inputTokens": 12, "outputTokens": 34}, "metrics": {"latencyMs": 56}}


class _Body:
    """What lean_events reads: an aiohttp response's content, in one piece."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self.content = self

    async def iter_any(self) -> Any:
        yield self._data


def _sample(timeline: Timeline) -> Any:
    request = Request(1, "m", Prompt("r", None, "hi"), max_tokens=50)
    return timeline.to_sample(request=request, t0_ns=0, intended_ns=0, dispatch_ns=0, warmup=False)


def test_the_tier_a_response_names_reaches_the_sample() -> None:
    timeline = Timeline()
    read_converse_metadata({**METADATA, "serviceTier": {"type": "flex"}}, timeline)
    sample = _sample(timeline)
    assert (sample.service_tier, sample.input_tokens, sample.server_latency_ms) == ("flex", 12, 56)


def test_a_response_without_a_tier_leaves_it_unknown() -> None:
    timeline = Timeline()
    read_converse_metadata(METADATA, timeline)
    assert _sample(timeline).service_tier is None


def test_the_lean_decoder_passes_the_metadata_events_tier_on() -> None:
    # The installed botocore's model may predate the field; the lean decoder keeps the JSON.
    frame = event_frame("metadata", {**METADATA, "serviceTier": {"type": "priority"}})

    async def events() -> list[dict[str, Any]]:
        return [event async for event in lean_events(_Body(frame), "ConverseStream")]

    [event] = asyncio.run(events())
    timeline = Timeline()
    read_converse_metadata(event["metadata"], timeline)
    assert _sample(timeline).service_tier == "priority"
