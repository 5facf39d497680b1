"""The runner: requests leave at their scheduled instants, one task each (open loop), or
when a user's previous request ends (closed loop, `run_closed`).

Requests are not held back because earlier ones are slow (that would hide the very latency
being measured, "coordinated omission"). The one overload path is explicit: when the
in-flight cap is reached, the request is not sent and a `dropped` Sample says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from loadgen.config.scenario import TimeoutSpec
from loadgen.core.clock import Clock
from loadgen.core.sample import ErrorClass, Sample
from loadgen.engine.backend import Backend, Timeline
from loadgen.engine.request import Planned, Request
from loadgen.engine.sessions import next_turn


@dataclass
class PhaseOutcome:
    scheduled: int = 0
    dispatched: int = 0
    dropped: int = 0
    cancelled: int = 0  # in flight when the run stopped: each has a "cancelled" Sample
    first_offset_ns: int = 0
    last_offset_ns: int = 0
    first_dispatch_ns: int = 0
    last_dispatch_ns: int = 0
    sessions: int = 0  # sessions whose first turn was sent
    sessions_ended_early: int = 0  # a turn failed, was cancelled or not admitted
    unsent_turns: int = 0  # later turns of sessions that ended early or were dropped

    def count_scheduled(self, offset_ns: int) -> None:
        if self.scheduled == 0:
            self.first_offset_ns = offset_ns
        self.last_offset_ns = offset_ns
        self.scheduled += 1

    def count_dispatched(self, dispatch_ns: int) -> None:
        if self.dispatched == 0:
            self.first_dispatch_ns = dispatch_ns
        self.last_dispatch_ns = dispatch_ns
        self.dispatched += 1

    @property
    def ids_used(self) -> int:
        """Request ids the phase took: each session reserves one per turn, sent or not."""
        return self.scheduled + self.unsent_turns


class Runner:
    def __init__(
        self,
        backend: Backend,
        clock: Clock,
        on_sample: Callable[[Sample], None],
        *,
        max_in_flight: int,
        timeouts: TimeoutSpec,
        t0_ns: int,
        admit: Callable[[Request], bool] | None = None,
        capture_text: bool = False,
    ) -> None:
        self._backend = backend
        self._clock = clock
        self._on_sample = on_sample
        self._max_in_flight = max_in_flight
        self._timeouts = timeouts
        self._t0_ns = t0_ns  # the origin every Sample's instants are measured from
        # A guard asked before each send; False ends the phase (the guard says why).
        self._admit = admit
        self._in_flight: set[asyncio.Task[None]] = set()
        self._capture_text = capture_text  # keep response text for quality scoring

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    async def run_phase(
        self, plan: Iterator[Planned], start_ns: int, outcome: PhaseOutcome
    ) -> None:
        """Send every planned request at start_ns + offset; return when the plan is exhausted.

        Cancelling this coroutine stops scheduling; requests in flight are left to `drain`.
        """
        for planned in plan:
            intended_ns = start_ns + planned.offset_ns
            await self._clock.sleep_until(intended_ns)
            dispatch_ns = self._clock.now_ns()
            if len(self._in_flight) >= self._max_in_flight:
                outcome.count_scheduled(planned.offset_ns)
                outcome.dropped += 1
                self._emit_dropped(planned, intended_ns, dispatch_ns)
                if planned.request.session is not None:
                    outcome.unsent_turns += planned.request.session.turns - 1
                continue
            if self._admit is not None and not self._admit(planned.request):
                return
            outcome.count_scheduled(planned.offset_ns)
            outcome.count_dispatched(dispatch_ns)
            task = asyncio.create_task(
                self._session_or_one(planned, start_ns, intended_ns, dispatch_ns, outcome)
            )
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def run_closed(
        self,
        requests: Iterator[Request],
        start_ns: int,
        outcome: PhaseOutcome,
        *,
        users: int,
        warmup_ns: int,
        end_ns: int | None,
        measured_limit: int | None,
        think_ns: int = 0,
    ) -> None:
        """Closed loop: `users` loops, each sending its next request when the previous ends
        (and `think_ns` more have passed).

        No user sends before start_ns: it is the phase's origin, and a request before it would
        have a negative intended start. The instant a user became free is the request's
        intended start, so schedule lag is only the event loop's delay in noticing, and the
        rate is whatever the endpoint allows. Warmup and the end go by that intended start,
        as in open loop: a request is warmup when it is intended within warmup_ns of start_ns,
        and a user stops once its next one would be intended at end_ns or later (both offsets
        from start_ns). Cancelling this coroutine stops the users from sending more; requests
        in flight are left to `drain`, as in open loop.
        """
        measured = 0

        async def user() -> None:
            nonlocal measured
            ready_ns = start_ns
            await self._clock.sleep_until(ready_ns)
            while True:
                offset_ns = ready_ns - start_ns
                if end_ns is not None and offset_ns >= end_ns:
                    return
                dispatch_ns = self._clock.now_ns()
                warmup = offset_ns < warmup_ns
                if not warmup:
                    if measured_limit is not None and measured >= measured_limit:
                        return
                    measured += 1
                request = next(requests, None)
                if request is None:
                    return
                if self._admit is not None and not self._admit(request):
                    return
                outcome.count_scheduled(offset_ns)
                outcome.count_dispatched(dispatch_ns)
                planned = Planned(offset_ns, request, warmup)
                # A session is this user's until its last turn has ended.
                task = asyncio.create_task(
                    self._session_or_one(planned, start_ns, ready_ns, dispatch_ns, outcome)
                )
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
                # asyncio.wait, unlike awaiting the task, leaves it running when this user is
                # cancelled: a stop ends the loop, the request itself is drained.
                await asyncio.wait({task})
                ready_ns = self._clock.now_ns()
                if think_ns:
                    ready_ns += think_ns
                    if end_ns is None or ready_ns - start_ns < end_ns:
                        await self._clock.sleep_until(ready_ns)

        loops = [asyncio.create_task(user()) for _ in range(users)]
        try:
            await asyncio.gather(*loops)
        finally:
            for loop in loops:
                loop.cancel()
            await asyncio.wait(loops)

    async def drain(self, grace_s: float | None, outcome: PhaseOutcome) -> None:
        """Wait for requests in flight (up to grace_s if given), then cancel what is left."""
        if not self._in_flight:
            return
        _, pending = await asyncio.wait(set(self._in_flight), timeout=grace_s)
        for task in pending:
            task.cancel()
        if pending:
            outcome.cancelled += len(pending)
            await asyncio.wait(pending)

    async def _session_or_one(
        self,
        planned: Planned,
        start_ns: int,
        intended_ns: int,
        dispatch_ns: int,
        outcome: PhaseOutcome,
    ) -> None:
        """One request, or (Request.session) every turn of a session in order: turn k + 1 is
        intended when turn k has ended plus the think time, and is scheduled and dispatched
        like any request. A turn that fails, is cancelled or is not admitted ends the session;
        its later turns are counted unsent (their ids stay reserved)."""
        script = planned.request.session
        if script is None:
            await self._one(planned, intended_ns, dispatch_ns)
            return
        outcome.sessions += 1
        request = planned.request
        turn = request.turn or 1
        try:
            while True:
                timeline = await self._one(
                    replace(planned, request=request), intended_ns, dispatch_ns
                )
                if timeline.error is not None or turn >= script.turns:
                    break
                answer = "".join(timeline.text_parts or ())
                request = next_turn(request, answer, timeline.stop_reason, timeline.tool_uses)
                intended_ns = self._clock.now_ns() + script.think_ns
                await self._clock.sleep_until(intended_ns)
                if self._admit is not None and not self._admit(request):
                    break
                dispatch_ns = self._clock.now_ns()
                outcome.count_scheduled(intended_ns - start_ns)
                outcome.count_dispatched(dispatch_ns)
                turn += 1
        finally:
            if turn < script.turns:
                outcome.sessions_ended_early += 1
                outcome.unsent_turns += script.turns - turn

    async def _one(self, planned: Planned, intended_ns: int, dispatch_ns: int) -> Timeline:
        loop = asyncio.get_running_loop()
        started = loop.time()
        total_deadline = started + self._timeouts.total
        first_deadline = min(started + self._timeouts.first_token, total_deadline)
        # A session's next turn sends the answer back: its text is kept for that.
        capture = self._capture_text or planned.request.session is not None
        timeline = Timeline(capture_text=capture)
        try:
            async with asyncio.timeout_at(first_deadline) as deadline:
                # After the first token only the total deadline is left.
                timeline.on_first_token = lambda: deadline.reschedule(total_deadline)
                await self._backend.execute(planned.request, timeline)
        except TimeoutError:
            first_pending = timeline.first_token_ns is None and not timeline.whole_response
            code = "FirstTokenTimeout" if first_pending else "TotalTimeout"
            timeline.fail(
                ErrorClass.TIMEOUT, code, "a deadline from the scenario's timeouts passed"
            )
        except asyncio.CancelledError:
            # The run stopped with this request in flight: it left, so it is booked with what
            # was measured (send, TTFT if it came) rather than vanishing from the counts.
            timeline.fail(ErrorClass.CANCELLED, "Cancelled", "in flight when the run stopped")
            self._emit(planned, timeline, intended_ns, dispatch_ns)
            raise
        self._emit(planned, timeline, intended_ns, dispatch_ns)
        return timeline

    def _emit_dropped(self, planned: Planned, intended_ns: int, dispatch_ns: int) -> None:
        timeline = Timeline()
        timeline.error = ErrorClass.DROPPED
        timeline.error_code = "InFlightCap"
        timeline.error_message = f"{self._max_in_flight} requests already in flight"
        self._emit(planned, timeline, intended_ns, dispatch_ns)

    def _emit(
        self, planned: Planned, timeline: Timeline, intended_ns: int, dispatch_ns: int
    ) -> None:
        self._on_sample(
            timeline.to_sample(
                request=planned.request,
                t0_ns=self._t0_ns,
                intended_ns=intended_ns,
                dispatch_ns=dispatch_ns,
                warmup=planned.warmup,
            )
        )
