"""The runner's scheduling logic in virtual time: no real sleeping, no network."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Iterator

from loadgen.config.scenario import TimeoutSpec
from loadgen.core.sample import ErrorClass, Sample
from loadgen.engine.backend import Timeline
from loadgen.engine.request import Planned, Prompt, Request
from loadgen.engine.runner import PhaseOutcome, Runner


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


async def test_interrupted_drain_cancels_counts_and_books_each_request() -> None:
    clock, backend, samples = VirtualClock(), HeldBackend(), []
    runner = Runner(
        backend, clock, samples.append, max_in_flight=10, timeouts=TimeoutSpec(), t0_ns=clock.now
    )
    outcome = PhaseOutcome()
    await runner.run_phase(iter(plan(4, 1)), clock.now, outcome)
    await runner.drain(0.01, outcome)
    assert outcome.cancelled == 4
    assert runner.in_flight == 0
    # Every request that left is booked, with what was measured before the stop.
    assert sorted(s.request_id for s in samples) == sorted(p.request.request_id for p in plan(4, 1))
    assert {s.error for s in samples} == {ErrorClass.CANCELLED}
    assert all(s.send_us is not None and s.first_token_us is None for s in samples)


async def test_a_cancelled_request_keeps_its_first_token() -> None:
    class FirstTokenThenHeld(HeldBackend):
        async def execute(self, request: Request, timeline: Timeline) -> None:
            timeline.mark_send()
            timeline.mark_content()  # the first token came, the rest never will
            await self.release.wait()

    clock, samples = VirtualClock(), []
    runner = Runner(
        FirstTokenThenHeld(),
        clock,
        samples.append,
        max_in_flight=10,
        timeouts=TimeoutSpec(),
        t0_ns=clock.now,
    )
    outcome = PhaseOutcome()
    await runner.run_phase(iter(plan(2, 1)), clock.now, outcome)
    await runner.drain(0, outcome)
    assert [s.error for s in samples] == [ErrorClass.CANCELLED] * 2
    assert all(s.first_token_us is not None and s.ttft_service_us is not None for s in samples)


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


class EventClock:
    """Discrete-event time: each sleeper wakes at its instant, in order; time jumps there once
    every task has run as far as it can."""

    def __init__(self) -> None:
        self.now = 0
        self._sleepers: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now_ns(self) -> int:
        return self.now

    async def sleep_until(self, instant_ns: int) -> None:
        if instant_ns <= self.now:
            await asyncio.sleep(0)
            return
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (instant_ns, next(self._order), woken))
        await woken

    async def run(self, main: Awaitable[None]) -> None:
        task = asyncio.ensure_future(main)
        while not task.done():
            for _ in range(50):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if self._sleepers and not task.done():
                instant, _, woken = heapq.heappop(self._sleepers)
                self.now = max(self.now, instant)
                woken.set_result(None)
            elif not task.done():
                raise AssertionError("nothing to wake, yet the runner is not done")
        task.result()


class ServiceTimeBackend:
    """Takes `service_ns` of virtual time per request; records how many were in flight."""

    def __init__(self, clock: EventClock, service_ns: int) -> None:
        self.clock, self.service_ns = clock, service_ns
        self.in_flight = self.peak = 0

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def execute(self, request: Request, timeline: Timeline) -> None:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        timeline.send_ns = self.clock.now
        await self.clock.sleep_until(self.clock.now + self.service_ns)
        timeline.first_token_ns = timeline.end_ns = self.clock.now
        timeline.output_tokens = 1
        self.in_flight -= 1


def requests_forever() -> Iterator[Request]:
    prompt = Prompt(row_id="r", system=None, user="hi")
    return (Request(i, "m", prompt, max_tokens=10) for i in itertools.count())


async def _closed(
    users: int, service_ms: int, *, warmup_s: float, duration_s: float | None, limit: int | None
) -> tuple[list[Sample], PhaseOutcome, ServiceTimeBackend]:
    clock = EventClock()
    backend = ServiceTimeBackend(clock, service_ms * 1_000_000)
    samples: list[Sample] = []
    runner = Runner(
        backend, clock, samples.append, max_in_flight=100, timeouts=TimeoutSpec(), t0_ns=0
    )
    outcome = PhaseOutcome()
    await clock.run(
        runner.run_closed(
            requests_forever(),
            0,
            outcome,
            users=users,
            warmup_ns=round(warmup_s * 1e9),
            end_ns=None if duration_s is None else round((warmup_s + duration_s) * 1e9),
            measured_limit=limit,
        )
    )
    await clock.run(runner.drain(None, outcome))
    return samples, outcome, backend


async def test_closed_loop_keeps_n_users_busy_and_no_more() -> None:
    samples, outcome, backend = await _closed(3, 100, warmup_s=0.5, duration_s=2.0, limit=None)
    # 3 users × one request per 100 ms over 2.5 s; the rate is an outcome: N / service time.
    assert backend.peak == 3
    assert outcome.dispatched == len(samples) == 75
    assert sum(s.warmup for s in samples) == 15
    assert all(s.ok for s in samples)
    # Each user's next request is intended when its previous one ended: no lag, no gap.
    assert {s.schedule_lag_us for s in samples} == {0}
    starts = sorted(s.intended_us for s in samples)
    assert starts[:6] == [0, 0, 0, 100_000, 100_000, 100_000]


async def test_closed_loop_stops_at_a_count_of_measured_requests() -> None:
    samples, _, backend = await _closed(4, 50, warmup_s=0.0, duration_s=None, limit=10)
    assert len(samples) == sum(not s.warmup for s in samples) == 10
    assert backend.peak == 4
