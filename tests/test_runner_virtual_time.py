"""The runner's scheduling logic in virtual time: no real sleeping, no network."""

from __future__ import annotations

import asyncio

from loadgen.backend import Request, Timeline
from loadgen.prompts import Prompt
from loadgen.runner import PhaseOutcome, Planned, Runner
from loadgen.sample import ErrorClass, Sample
from loadgen.scenario import TimeoutSpec


class VirtualClock:
    """Time moves only when the runner sleeps; each wake-up is `overshoot_ns` late."""

    def __init__(self, overshoot_ns: int = 0) -> None:
        self.now = 1_000_000_000
        self.overshoot_ns = overshoot_ns

    def now_ns(self) -> int:
        return self.now

    async def sleep_until(self, instant_ns: int) -> None:
        self.now = max(self.now, instant_ns + self.overshoot_ns)
        await asyncio.sleep(0)


class HeldBackend:
    """Answers only when released: lets a test hold requests in flight."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.started = 0

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def execute(self, request: Request, timeline: Timeline) -> None:
        self.started += 1
        timeline.mark_send()
        await self.release.wait()
        timeline.mark_content()
        timeline.output_tokens = 1
        timeline.mark_end()


def plan(count: int, period_ns: int) -> list[Planned]:
    prompt = Prompt(row_id="r", system=None, user="hi")
    return [
        Planned(i * period_ns, Request(i, "m", prompt, max_tokens=10), warmup=False)
        for i in range(count)
    ]


async def test_in_flight_cap_drops_and_counts() -> None:
    clock, backend, samples = VirtualClock(), HeldBackend(), []
    runner = Runner(
        backend, clock, samples.append, max_in_flight=3, timeouts=TimeoutSpec(), t0_ns=clock.now
    )
    outcome = PhaseOutcome()
    await runner.run_phase(iter(plan(10, 100_000_000)), clock.now, outcome)
    assert (outcome.dispatched, outcome.dropped) == (3, 7)
    dropped = [s for s in samples if s.error is ErrorClass.DROPPED]
    assert len(dropped) == 7 and all(s.send_us is None for s in dropped)
    backend.release.set()
    await runner.drain(None, outcome)
    assert len(samples) == 10
    assert sum(s.ok for s in samples) == 3


async def test_lag_does_not_accumulate() -> None:
    # Each wake-up is 2 ms late; with absolute instants the lag stays 2 ms, never 2 ms times n.
    clock, backend, samples = VirtualClock(overshoot_ns=2_000_000), HeldBackend(), []
    backend.release.set()
    runner = Runner(
        backend, clock, samples.append, max_in_flight=100, timeouts=TimeoutSpec(), t0_ns=clock.now
    )
    outcome = PhaseOutcome()
    await runner.run_phase(iter(plan(50, 10_000_000)), clock.now, outcome)
    await runner.drain(None, outcome)
    lags = {s.schedule_lag_us for s in samples}
    assert lags == {2000}
    intended = sorted(s.intended_us for s in samples)
    assert intended[-1] - intended[0] == 49 * 10_000


async def test_interrupted_drain_cancels_and_counts() -> None:
    clock, backend, samples = VirtualClock(), HeldBackend(), []
    runner = Runner(
        backend, clock, samples.append, max_in_flight=10, timeouts=TimeoutSpec(), t0_ns=clock.now
    )
    outcome = PhaseOutcome()
    await runner.run_phase(iter(plan(4, 1)), clock.now, outcome)
    await runner.drain(0.01, outcome)
    assert outcome.cancelled == 4
    assert samples == []
    assert runner.in_flight == 0


async def test_first_token_timeout_is_a_timeout_sample() -> None:
    clock, backend, samples = VirtualClock(), HeldBackend(), []
    timeouts = TimeoutSpec(first_token=0.05, total=1)
    runner = Runner(backend, clock, samples.append, max_in_flight=10, timeouts=timeouts, t0_ns=0)
    outcome = PhaseOutcome()
    await runner.run_phase(iter(plan(1, 1)), clock.now, outcome)
    await runner.drain(None, outcome)
    (sample,) = samples
    assert isinstance(sample, Sample)
    assert sample.error is ErrorClass.TIMEOUT and sample.error_code == "FirstTokenTimeout"
