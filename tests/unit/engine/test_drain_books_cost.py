"""Requests cancelled at a stop are booked, in virtual time: the runner, the budget guard, the
cost of each Sample and the Recorder wired as a run wires them (loadgen/run/measure.py).

Issue 17, defect 1: requests cancelled in flight left their budget reservations behind and
their spend out of the run's cost ("spent 0.0 with 0.4 still reserved")."""

from __future__ import annotations

from dataclasses import replace

import pytest

from loadgen.config.scenario import TimeoutSpec
from loadgen.core.sample import Sample
from loadgen.cost.accounting import BudgetGuard, sample_cost
from loadgen.cost.pricing import DEFAULT_REGION, PriceBook
from loadgen.cost.worst_case import worst_case_cost, worst_case_input_tokens
from loadgen.engine.backend import Timeline
from loadgen.engine.request import Request
from loadgen.engine.runner import PhaseOutcome, Runner
from loadgen.record.recorder import Recorder
from tests.unit.engine.test_runner_virtual_time import HeldBackend, VirtualClock, plan

NOVA_LITE = "amazon.nova-lite-v1:0"


class TwoAnswersThenHeld(HeldBackend):
    """Answers the first two requests (100 in, 50 out); holds the rest after their first token."""

    async def execute(self, request: Request, timeline: Timeline) -> None:
        self.started += 1
        timeline.mark_send()
        timeline.mark_content("x")
        if self.started > 2:
            await self.release.wait()  # never set: the stop finds these in flight
        timeline.input_tokens, timeline.output_tokens = 100, 50
        timeline.mark_end()


async def test_requests_cancelled_in_flight_settle_their_reservations_and_count_in_the_spend() -> (
    None
):
    price = PriceBook.builtin().resolve(NOVA_LITE, DEFAULT_REGION)
    assert price is not None
    budget = BudgetGuard(max_usd=1.0)
    recorder = Recorder()
    planned = plan(5, 1)
    worst = {
        p.request.request_id: worst_case_cost(
            price, worst_case_input_tokens(p.request.prompt), p.request.max_tokens
        )
        for p in planned
    }

    def admit(request: Request) -> bool:
        return budget.try_reserve(request.request_id, worst[request.request_id])

    def on_sample(sample: Sample) -> None:  # as measure's book() does it
        cost = sample_cost(price, sample)
        budget.settle(sample.request_id, cost)
        recorder.add(replace(sample, cost_usd=cost))

    clock = VirtualClock()
    runner = Runner(
        TwoAnswersThenHeld(),
        clock,
        on_sample,
        max_in_flight=10,
        timeouts=TimeoutSpec(),
        t0_ns=clock.now,
        admit=admit,
    )
    outcome = PhaseOutcome()
    await runner.run_phase(iter(planned), clock.now, outcome)
    await runner.drain(0, outcome)  # a stop with no grace left: the three held are cancelled

    assert outcome.cancelled == 3 and runner.in_flight == 0
    answered = 2 * (100 * 0.06 + 50 * 0.24) / 1e6  # Nova Lite, USD per 1M tokens
    # The guard: nothing left reserved; each cancelled request (sent, its cost unknown) is
    # booked at its reservation, the most it could have cost.
    assert budget.in_flight_usd == 0.0
    cancelled_worst = sum(worst[p.request.request_id] for p in planned[2:])
    assert budget.spent_usd == pytest.approx(answered + cancelled_worst)
    # The run's own spend: the two answers priced, the three cancelled ones billed for an
    # amount no usage says: counted as such, not left out.
    spend = recorder.spend.summary()
    assert spend["total_usd"] == pytest.approx(answered)
    assert spend["measured_usd"] == pytest.approx(answered)
    assert (spend["cancelled_requests"], spend["unpriced_requests"]) == (3, 3)
