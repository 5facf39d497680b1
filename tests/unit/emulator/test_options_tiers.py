"""Service tiers near saturation: flex is shed first, default and reserved at the queue limit,
priority last (it may use headroom beyond the limit) and it waits ahead of the other tiers."""

from __future__ import annotations

import asyncio

from loadgen.emulator.capacity import Slots
from loadgen.emulator.profiles import Capacity, Profile
from loadgen.emulator.request_options import ServiceTier
from loadgen.emulator.tiers import queue_limit_for, speed_factor

PROFILE = Profile()


def _limit(tier: ServiceTier | None, queue_limit: int | None = 8) -> int | None:
    return queue_limit_for(tier, queue_limit, PROFILE.flex_shed_fraction, PROFILE.priority_headroom)


def test_queue_limits_by_tier() -> None:
    assert _limit("flex") == 4
    assert _limit("default") == _limit("reserved") == _limit(None) == 8
    assert _limit("priority") == 10
    assert _limit("flex", None) is None  # no queue limit: nothing is shed


def test_speed_by_tier() -> None:
    assert speed_factor("priority", 0.8, 1.5) == 0.8
    assert speed_factor("flex", 0.8, 1.5) == 1.5
    assert speed_factor("default", 0.8, 1.5) == speed_factor("reserved", 0.8, 1.5) == 1.0


def test_flex_is_shed_first_and_priority_last() -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        slots = Slots(Capacity(slots=1, queue_limit=8))
        assert await slots.acquire()  # the one slot is busy
        refused: list[str] = []
        waiting: list[asyncio.Task[bool]] = []
        served: list[str] = []

        async def ask(tier: ServiceTier) -> bool:
            ok = await slots.acquire_tiered(_limit(tier), ahead=tier == "priority")
            if ok:
                served.append(tier)
            return ok

        for tier in (
            ["default"] * 4
            + ["flex"]
            + ["default"] * 4
            + ["default", "priority", "priority", "priority"]
        ):
            task = asyncio.create_task(ask(tier))  # type: ignore[arg-type]
            await asyncio.sleep(0)
            if task.done() and not task.result():
                refused.append(tier)
            else:
                waiting.append(task)
        for _ in range(len(waiting)):  # each release hands the slot to the next in line
            slots.release()
            await asyncio.sleep(0)
        await asyncio.gather(*waiting)
        return refused, served

    refused, served = asyncio.run(scenario())
    # flex refused at 4 queued; the 9th default at 8; priority got 2 places of headroom.
    assert refused == ["flex", "default", "priority"]
    assert served[:2] == ["priority", "priority"]
    assert served[2:] == ["default"] * 8
