"""Closed loop in virtual time: nothing leaves before the phase starts, warmup goes by the
documented rule (intended start within load.warmup of the phase start) and is counted, and
think time spaces a user's requests. The end-to-end counts: tests/e2e/test_closed_loop.py."""

from __future__ import annotations

import itertools
import math

from loadgen.config.scenario import TimeoutSpec
from loadgen.core.sample import Sample
from loadgen.engine.runner import PhaseOutcome, Runner
from tests.unit.engine.test_runner_virtual_time import (
    EventClock,
    ServiceTimeBackend,
    requests_forever,
)

MS = 1_000_000


async def _run(
    *,
    users: int,
    service_ms: int,
    lead_ms: int,
    warmup_ms: int,
    duration_ms: int,
    think_ms: int = 0,
) -> tuple[list[Sample], PhaseOutcome, EventClock, int]:
    """A closed-loop phase whose start (and t0) is `lead_ms` after the clock's now, as
    measure.py sets it up (START_LEAD_NS)."""
    clock = EventClock()
    backend = ServiceTimeBackend(clock, service_ms * MS)
    start_ns = clock.now + lead_ms * MS
    samples: list[Sample] = []
    runner = Runner(
        backend, clock, samples.append, max_in_flight=100, timeouts=TimeoutSpec(), t0_ns=start_ns
    )
    outcome = PhaseOutcome()
    await clock.run(
        runner.run_closed(
            requests_forever(),
            start_ns,
            outcome,
            users=users,
            warmup_ns=warmup_ms * MS,
            end_ns=(warmup_ms + duration_ms) * MS,
            measured_limit=None,
            think_ns=think_ms * MS,
        )
    )
    await clock.run(runner.drain(None, outcome))
    return samples, outcome, clock, start_ns


async def test_no_request_leaves_before_the_phase_starts() -> None:
    samples, outcome, _, _ = await _run(
        users=8, service_ms=100, lead_ms=100, warmup_ms=0, duration_ms=1000
    )
    # Instants are µs since t0 (the phase start): none is negative, none dispatched early.
    assert min(s.dispatch_us for s in samples) >= 0
    assert min(s.intended_us for s in samples) == 0
    assert all(s.send_us is not None and s.send_us >= 0 for s in samples)
    # No warmup asked for, so none: every request that left is measured and counted.
    assert not any(s.warmup for s in samples)
    assert outcome.dispatched == len(samples) == 8 * math.ceil(1000 / 100)


async def test_warmup_is_the_requests_intended_in_the_first_warmup_seconds() -> None:
    users, service_ms, warmup_ms, duration_ms = 2, 100, 250, 1000
    samples, outcome, _, _ = await _run(
        users=users,
        service_ms=service_ms,
        lead_ms=100,
        warmup_ms=warmup_ms,
        duration_ms=duration_ms,
    )
    warmup = [s for s in samples if s.warmup]
    measured = [s for s in samples if not s.warmup]
    # The rule: warmup when the intended start is before the warmup's end, whatever the lead.
    assert all(s.intended_us < warmup_ms * 1000 for s in warmup)
    assert all(s.intended_us >= warmup_ms * 1000 for s in measured)
    per_user_warmup = math.ceil(warmup_ms / service_ms)
    per_user_total = math.ceil((warmup_ms + duration_ms) / service_ms)
    assert len(warmup) == users * per_user_warmup
    assert len(measured) == users * (per_user_total - per_user_warmup)
    # Every request that left is a sample and is counted as dispatched, warmup included.
    assert outcome.dispatched == len(samples)


async def test_think_time_spaces_a_users_requests() -> None:
    service_ms, think_ms, duration_ms = 100, 50, 1000
    samples, _, _, _ = await _run(
        users=1,
        service_ms=service_ms,
        lead_ms=100,
        warmup_ms=0,
        duration_ms=duration_ms,
        think_ms=think_ms,
    )
    starts = [s.intended_us for s in sorted(samples, key=lambda s: s.intended_us)]
    assert {b - a for a, b in itertools.pairwise(starts)} == {(service_ms + think_ms) * 1000}
    assert len(starts) == math.ceil(duration_ms / (service_ms + think_ms))
    # The think time is the user's, not the generator's lateness: no schedule lag.
    assert {s.schedule_lag_us for s in samples} == {0}
