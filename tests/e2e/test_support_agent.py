"""scenarios/support_agent.yaml through `loadgen run --emulate`: sessions of 3 turns whose
history grows, tools, caching and reasoning on current models. The session logic in virtual
time: tests/unit/engine/test_sessions.py."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

import pytest
import yaml

from tests.helpers import REPO, loadgen

SCENARIO = REPO / "scenarios" / "support_agent.yaml"
# The bundled scenario's sessions, made quicker to drain: a smaller thinking budget, a shorter
# think time and faster emulated models keep every mechanism (turns, tools, cache, reasoning)
# and take seconds.
THINK_TIME_S = 0.3


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("support")
    scenario = yaml.safe_load(SCENARIO.read_text())
    scenario["dataset"]["path"] = str(SCENARIO.parent / scenario["dataset"]["path"])
    scenario["inference"].update(max_tokens=1536, reasoning={"budget_tokens": 1024})
    scenario["conversation"]["think_time"] = f"{THINK_TIME_S}s"
    scenario["load"]["rate"] = 2
    fast = {"ttft_ms": 100, "ttft_jitter_ms": 10, "itl_ms": 3, "itl_jitter_ms": 1}
    scenario["emulator"] = {"profiles": {_model_id(m): fast for m in scenario["models"]}}
    quick = folder / "support_agent.yaml"
    quick.write_text(yaml.safe_dump(scenario))
    out = folder / "out"
    completed = loadgen(
        "run", str(quick), "--emulate", "--duration", "2s", "--out", str(out),
        "--no-html", "--quiet",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]


def _model_id(entry: str | dict[str, Any]) -> str:
    return entry if isinstance(entry, str) else str(entry["id"])


def test_every_session_sends_its_three_turns(samples: list[dict[str, Any]]) -> None:
    turns = yaml.safe_load(SCENARIO.read_text())["conversation"]["turns"]
    sessions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for sample in samples:
        sessions[sample["session_id"]].append(sample)
    assert len(sessions) >= 3
    for session_id, its in sessions.items():
        its.sort(key=lambda s: s["turn"])
        assert [s["turn"] for s in its] == list(range(1, turns + 1)), session_id
        # The planner reserved the session's ids: turn k is session_id + k - 1.
        assert [s["request_id"] for s in its] == [session_id + k for k in range(turns)]
        assert len({s["model"] for s in its}) == 1 and len({s["row_id"] for s in its}) == 1
        assert all(s["outcome"] == "ok" for s in its), its
    assert len({s["request_id"] for s in samples}) == len(samples)


def test_the_history_grows_turn_by_turn(samples: list[dict[str, Any]]) -> None:
    # The prompt the server counted: uncached input plus what was read from or written to
    # the cache (docs/metrics.md), by the emulator's own usage figures.
    def prompt_tokens(sample: dict[str, Any]) -> int:
        return (
            sample["input_tokens"]
            + (sample["cache_read_tokens"] or 0)
            + (sample["cache_write_tokens"] or 0)
        )

    sessions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for sample in samples:
        sessions[sample["session_id"]].append(sample)
    for its in sessions.values():
        its.sort(key=lambda s: s["turn"])
        counts = [prompt_tokens(s) for s in its]
        assert counts == sorted(counts) and len(set(counts)) == len(counts), counts


def test_turns_follow_their_predecessors(samples: list[dict[str, Any]]) -> None:
    # Turn k + 1 is intended after turn k ended plus the think time.
    by_id = {s["request_id"]: s for s in samples}
    for sample in samples:
        if sample["turn"] > 1:
            previous = by_id[sample["request_id"] - 1]
            assert sample["intended_us"] - previous["end_us"] >= THINK_TIME_S * 1_000_000


def test_claude_reasons_and_calls_tools(samples: list[dict[str, Any]]) -> None:
    claude = [s for s in samples if "claude" in s["model"]]
    assert claude and all(s["first_reasoning_us"] is not None for s in claude)
    assert any(s["cache_read_tokens"] for s in claude)  # system and tools cached
    assert any(s["stop_reason"] == "tool_use" for s in samples)
