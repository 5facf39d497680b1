"""How each model counts tokens, measured from the server's usage in preflight
(loadgen/run/token_counting.py), against a server double that counts its own way."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator

import pytest

from loadgen.engine.backend import Timeline
from loadgen.engine.request import Request
from loadgen.plan.synthetic import make_prompt
from loadgen.run.token_counting import forget_calibrations, token_counters


class CountingServer:
    """Answers every request with usage: `overhead` + ceil(characters / ratio) input tokens,
    part of them (`cached`) reported as cache reads. Counts the requests it got."""

    def __init__(self, ratio: float, overhead: int, cached: int = 0, usage: bool = True) -> None:
        self.ratio, self.overhead, self.cached, self.usage = ratio, overhead, cached, usage
        self.requests: list[Request] = []

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def execute(self, request: Request, timeline: Timeline) -> None:
        self.requests.append(request)
        if self.usage:
            tokens = self.overhead + math.ceil(len(request.prompt.user) / self.ratio)
            timeline.input_tokens = tokens - self.cached
            timeline.cache_read_tokens = self.cached
            timeline.output_tokens = request.max_tokens
        timeline.mark_end()


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    forget_calibrations()
    yield
    forget_calibrations()


def test_calibration_finds_the_servers_ratio_and_overhead() -> None:
    server = CountingServer(ratio=3.2, overhead=11, cached=4)
    counters = asyncio.run(token_counters(server, ["a", "b"], ("url", "api"), calibrate=True))
    assert len(server.requests) == 4  # two per model
    assert all(r.max_tokens == 1 for r in server.requests)
    for counter in counters.values():
        assert counter.method == "calibrated"
        text = make_prompt(2000, seed=1, tokens=counter)
        served = server.overhead + math.ceil(len(text) / server.ratio)
        assert abs(served - 2000) / 2000 < 0.005


def test_a_calibration_is_kept_for_the_next_run_of_the_process() -> None:
    server = CountingServer(ratio=3.0, overhead=0)
    first = asyncio.run(token_counters(server, ["a"], ("url", "api"), calibrate=True))
    # A sweep's later stage: no preflight, and the same counter.
    later = asyncio.run(token_counters(server, ["a"], ("url", "api"), calibrate=False))
    assert later == first and len(server.requests) == 2
    elsewhere = asyncio.run(token_counters(server, ["a"], ("other", "api"), calibrate=False))
    assert elsewhere["a"].method == "default"


def test_a_server_without_usage_leaves_the_default() -> None:
    server = CountingServer(ratio=3.0, overhead=0, usage=False)
    counters = asyncio.run(token_counters(server, ["a"], ("url", "api"), calibrate=True))
    assert counters["a"].method == "default"
    assert counters["a"].count("x" * 400) == 100
