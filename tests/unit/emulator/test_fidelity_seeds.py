"""The hard rule of the fidelity work: with the new faults and stop rates at 0 (the default), a
seed answers exactly as the emulator did before them (commit 285343a), but for the padding.

The expectation was captured from that commit with tests/unit/emulator/seed_capture.py (run
as a script against a checkout of it); the same capture of the current code must equal it."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.emulator.seed_capture import capture

EXPECTED = Path(__file__).with_name("data") / "seed_285343a.json"


async def test_a_seed_plans_and_answers_as_before_the_new_faults() -> None:
    expected = json.loads(EXPECTED.read_text())
    now = await capture()
    assert len(now["plans"]) == len(expected["plans"]) == 90
    # Faults were drawn (the draw order is what appending kinds must not move).
    assert sum(plan["fault"] is not None for plan in expected["plans"]) > 10
    for index, (plan, before) in enumerate(zip(now["plans"], expected["plans"], strict=True)):
        assert plan == before, f"request {index}: the plan changed"
    for index, (answer, before) in enumerate(zip(now["answers"], expected["answers"], strict=True)):
        assert answer == before, f"request {index}: the answer changed"
