"""Sessions in the runner, in virtual time: each turn after the previous one's end plus the
think time, the history growing by the user turn and the answer, a failed turn ending it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import replace

from loadgen.config.scenario import TimeoutSpec
from loadgen.core.sample import ErrorClass, Sample
from loadgen.engine.backend import Timeline, ToolCall
from loadgen.engine.request import (
    Planned,
    Prompt,
    Request,
    RequestOptions,
    SessionScript,
    ToolOption,
)
from loadgen.engine.runner import PhaseOutcome, Runner
from loadgen.engine.sessions import EMPTY_ANSWER, next_turn

SERVICE_NS = 300_000_000  # each answer takes this much virtual time
THINK_NS = 2_000_000_000
TOOLS = ToolOption(
    specs=(
        {"name": "lookup_order", "description": "d", "input_schema": {"type": "object"}},
        {"name": "refund_order", "description": "d", "input_schema": {"type": "object"}},
    ),
    choice="auto",
)


class VirtualClock:
    def __init__(self) -> None:
        self.now = 1_000_000_000

    def now_ns(self) -> int:
        return self.now

    async def sleep_until(self, instant_ns: int) -> None:
        self.now = max(self.now, instant_ns)
        await asyncio.sleep(0)


class SupportDesk:
    """Turn 1 asks for a tool, later turns answer in text; `fail_turn` fails that turn."""

    def __init__(self, clock: VirtualClock, fail_turn: int | None = None) -> None:
        self.clock = clock
        self.fail_turn = fail_turn
        self.requests: list[Request] = []

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def execute(self, request: Request, timeline: Timeline) -> None:
        self.requests.append(request)
        timeline.mark_send()
        await self.clock.sleep_until(self.clock.now + SERVICE_NS)
        if request.turn == self.fail_turn:
            timeline.fail(ErrorClass.SERVER, "InternalServerException", "boom", 500)
            return
        if request.turn == 1:
            timeline.mark_content("Let me look that up.")
            timeline.mark_tool_use(f"tooluse_{request.request_id}", "lookup_order")
            timeline.mark_tool_use(input_part='{"order_id": ')
            timeline.mark_tool_use(input_part='"A1001"}')
            timeline.stop_reason = "tool_use"
        else:
            timeline.mark_content(f"Answer {request.turn}.")
            timeline.stop_reason = "end_turn"
        timeline.mark_end()


def session_plan(count: int, turns: int = 3, period_ns: int = 1_000_000_000) -> list[Planned]:
    script = SessionScript(turns, ("Refund it please.", "Thanks!"), THINK_NS, '{"ok": true}')
    prompt = Prompt(row_id="t-1", system="be brief", user="My blender broke.", prefix_chars=3)
    return [
        Planned(
            i * period_ns,
            Request(
                i * turns,
                "m",
                prompt,
                max_tokens=100,
                options=RequestOptions(tools=TOOLS),
                session_id=i * turns,
                turn=1,
                session=script,
            ),
            warmup=i == 0,
        )
        for i in range(count)
    ]


def runner_for(backend: SupportDesk, clock: VirtualClock, samples: list[Sample]) -> Runner:
    return Runner(
        backend, clock, samples.append, max_in_flight=10, timeouts=TimeoutSpec(), t0_ns=clock.now
    )


async def run_sessions(
    planned: list[Planned], fail_turn: int | None = None
) -> tuple[SupportDesk, list[Sample], PhaseOutcome]:
    clock = VirtualClock()
    backend, samples, outcome = SupportDesk(clock, fail_turn), [], PhaseOutcome()
    runner = runner_for(backend, clock, samples)
    await runner.run_phase(iter(planned), clock.now, outcome)
    await runner.drain(None, outcome)
    return backend, samples, outcome


async def test_a_session_sends_its_turns_in_order_with_the_history_growing() -> None:
    backend, samples, outcome = await run_sessions(session_plan(1))
    sent = backend.requests
    assert [(r.request_id, r.session_id, r.turn) for r in sent] == [(0, 0, 1), (1, 0, 2), (2, 0, 3)]
    assert [len(r.prompt.history) for r in sent] == [0, 2, 4]
    assert [r.prompt.user for r in sent] == ["My blender broke.", "Refund it please.", "Thanks!"]
    # Turn 1's answer asked for a tool: the history holds the call, turn 2 answers it.
    answer = sent[1].prompt.history[1]
    assert answer["role"] == "assistant"
    assert answer["content"] == [
        {"text": "Let me look that up."},
        {
            "toolUse": {
                "toolUseId": "tooluse_0",
                "name": "lookup_order",
                "input": {"order_id": "A1001"},
            }
        },
    ]
    assert sent[1].prompt.user_blocks == (
        {"toolResult": {"toolUseId": "tooluse_0", "content": [{"text": '{"ok": true}'}]}},
    )
    # Turn 2's user message, toolResult first, then its text; turn 3 sends no toolResult.
    assert sent[2].prompt.history[2]["content"][0] == sent[1].prompt.user_blocks[0]
    assert sent[2].prompt.history[3]["content"] == [{"text": "Answer 2."}]
    assert sent[2].prompt.user_blocks == ()
    assert [r.prompt.prefix_chars for r in sent] == [3, 0, 0]
    assert all(r.options is sent[0].options for r in sent)
    assert [(s.session_id, s.turn) for s in samples] == [(0, 1), (0, 2), (0, 3)]
    assert (outcome.scheduled, outcome.dispatched, outcome.sessions, outcome.ids_used) == (
        3,
        3,
        1,
        3,
    )


async def test_each_turn_is_intended_at_the_previous_end_plus_the_think_time() -> None:
    _, samples, _ = await run_sessions(session_plan(1))
    gaps = [
        later.intended_us - earlier.intended_us for earlier, later in itertools.pairwise(samples)
    ]
    assert gaps == [(SERVICE_NS + THINK_NS) // 1000] * 2
    assert all(s.warmup for s in samples)  # a session started in warmup is warmup throughout


async def test_a_failed_turn_ends_its_session_and_its_ids_stay_reserved() -> None:
    backend, samples, outcome = await run_sessions(session_plan(2), fail_turn=2)
    assert [(r.session_id, r.turn) for r in backend.requests] == [(0, 1), (3, 1), (0, 2), (3, 2)]
    assert [s.error for s in samples if s.turn == 2] == [ErrorClass.SERVER] * 2
    assert (outcome.sessions, outcome.sessions_ended_early, outcome.unsent_turns) == (2, 2, 2)
    assert outcome.ids_used == 6  # the next phase starts after both sessions' ids


async def test_a_dropped_session_reserves_its_ids_too() -> None:
    clock = VirtualClock()
    backend, samples, outcome = SupportDesk(clock), [], PhaseOutcome()
    runner = Runner(
        backend, clock, samples.append, max_in_flight=1, timeouts=TimeoutSpec(), t0_ns=clock.now
    )
    # Both sessions are due at once: the second finds the first in flight.
    await runner.run_phase(iter(session_plan(2, period_ns=0)), clock.now, outcome)
    await runner.drain(None, outcome)
    assert outcome.dropped == 1 and outcome.unsent_turns == 2
    assert outcome.ids_used == 6


async def test_closed_loop_users_run_whole_sessions() -> None:
    clock = VirtualClock()
    backend, samples, outcome = SupportDesk(clock), [], PhaseOutcome()
    runner = runner_for(backend, clock, samples)
    requests: Iterator[Request] = (p.request for p in session_plan(100))
    # One user; its third session would be intended after the end, so it runs two.
    session_ns = 3 * SERVICE_NS + 2 * THINK_NS
    await runner.run_closed(
        requests,
        clock.now,
        outcome,
        users=1,
        warmup_ns=0,
        end_ns=2 * session_ns - 1,
        measured_limit=None,
    )
    assert [(r.session_id, r.turn) for r in backend.requests] == [
        (0, 1), (0, 2), (0, 3), (3, 1), (3, 2), (3, 3)
    ]  # fmt: skip
    assert outcome.sessions == 2 and outcome.dispatched == 6


def test_a_tool_use_answer_without_a_kept_call_gets_a_stand_in() -> None:
    first = session_plan(1)[0].request
    second = next_turn(first, "", "tool_use", [])
    (block,) = second.prompt.history[1]["content"]
    assert block["toolUse"]["name"] == "lookup_order"
    assert second.prompt.user_blocks[0]["toolResult"]["toolUseId"] == block["toolUse"]["toolUseId"]


def test_an_answer_without_text_or_tool_is_never_an_empty_message() -> None:
    first = session_plan(1)[0].request
    second = next_turn(first, "  ", "end_turn", [])
    assert second.prompt.history[1]["content"] == [{"text": EMPTY_ANSWER}]


def test_a_cut_tool_input_is_sent_back_as_an_empty_input() -> None:
    first = replace(session_plan(1)[0].request, options=RequestOptions())
    second = next_turn(first, "", "tool_use", [ToolCall("id_1", "refund_order", '{"order')])
    assert second.prompt.history[1]["content"] == [
        {"toolUse": {"toolUseId": "id_1", "name": "refund_order", "input": {}}}
    ]
