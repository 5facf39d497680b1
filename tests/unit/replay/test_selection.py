"""Which calls a replay sends, when, and where: spreading within a logged second, the
timestamp's end corrected by latencyMs, window, map, the scenario's models, rate scale, limit,
the API of each operation and the offsets divided by speed. All pure: no clock, no I/O."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import replace
from typing import Any

import pytest

from loadgen.config.replay_spec import ReplaySpec
from loadgen.core.errors import ConfigError
from loadgen.replay.planning import api_of, plan_requests
from loadgen.replay.records import ReplayRecord, Skips
from loadgen.replay.selection import Selection, select
from loadgen.replay.spreading import spread_instants

T0 = 1_748_959_200_000_000  # 2025-06-03T14:00:00Z, µs
SECOND = 1_000_000


def call(second: int, model: str | None = "m-a", **changes: Any) -> ReplayRecord:
    base = ReplayRecord(
        unix_us=T0 + second * SECOND,
        whole_second=True,
        model=model,
        operation="ConverseStream",
        input_tokens=100,
        output_tokens=20,
        where=f"log:{second}",
    )
    return replace(base, **changes)


def choose(
    records: list[ReplayRecord], models: set[str] | None = None, **spec: Any
) -> tuple[Selection, Skips]:
    skips = Skips()
    chosen = select(records, ReplaySpec(source=["log"], **spec), 7, models, skips)
    return chosen, skips


def test_calls_of_one_second_are_spaced_evenly_across_it() -> None:
    records = [call(0), call(0), call(0), call(0), call(1)]
    instants = spread_instants(records, seed=7)
    gaps = [b - a for a, b in itertools.pairwise(instants[:4])]
    assert gaps == [SECOND // 4] * 3  # evenly, in log order
    assert T0 <= instants[0] < T0 + SECOND // 4  # shifted by a seeded part of one gap
    assert instants[3] < T0 + SECOND
    assert T0 + SECOND <= instants[4] < T0 + 2 * SECOND
    # The same seed, the same instants; a second's instants do not depend on the others.
    assert spread_instants(records, seed=7) == instants
    assert spread_instants(records[:4], seed=7) == instants[:4]
    assert spread_instants(records, seed=8) != instants


def test_a_sub_second_instant_is_kept_as_logged() -> None:
    precise = call(0, whole_second=False, unix_us=T0 + 123_456)
    assert spread_instants([precise], seed=7) == [T0 + 123_456]


def test_timestamp_is_end_moves_each_call_back_by_its_latency() -> None:
    records = [call(5, latency_ms=2500), call(5, latency_ms=None)]
    start, _ = choose(records)
    end, _ = choose(records, timestamp_is="end")
    moved = {c.record.where + str(c.record.latency_ms): c.instant_us for c in end.source}
    kept = {c.record.where + str(c.record.latency_ms): c.instant_us for c in start.source}
    assert moved["log:52500"] == kept["log:52500"] - 2_500_000
    assert moved["log:5None"] == kept["log:5None"]
    assert (end.corrected, end.not_corrected) == (1, 1)


def test_the_window_counts_from_the_first_call_or_takes_utc_times() -> None:
    records = [call(s) for s in range(10)]
    chosen, skips = choose(records, window="2s..5s")
    assert [c.record.where for c in chosen.source] == ["log:2", "log:3", "log:4"]
    assert skips.records == {"outside_window": 7}
    chosen, _ = choose(records, window="2025-06-03T14:00:08Z..")
    assert [c.record.where for c in chosen.source] == ["log:8", "log:9"]
    # The replay starts at the window's first call.
    assert chosen.origin_us == chosen.source[0].instant_us
    with pytest.raises(ConfigError, match="is empty"):
        choose(records, window="2025-06-03T15:00:00Z..1s")


def test_map_and_the_scenarios_models_decide_where_calls_go() -> None:
    records = [call(0, "claude"), call(1, "nova"), call(2, "llama")]
    chosen, _ = choose(records, map={"claude": "nova-pro", "*": "nova-lite"})
    assert [c.model for c in chosen.source] == ["nova-pro", "nova-lite", "nova-lite"]
    chosen, skips = choose(records, models={"claude", "nova"})
    assert [c.model for c in chosen.source] == ["claude", "nova"]
    assert skips.records == {"model_not_selected": 1}


def test_a_trace_without_models_needs_one_named() -> None:
    with pytest.raises(ConfigError, match="names no model"):
        choose([call(0, model=None)])
    chosen, _ = choose([call(0, model=None)], map={"*": "nova-lite"})
    assert chosen.source[0].model == "nova-lite"


def test_rate_scale_thins_or_duplicates_with_the_shape_kept() -> None:
    records = [call(s // 10) for s in range(2000)]  # 10 calls a second for 200 s
    half, _ = choose(records, rate_scale=0.5)
    assert half.thinned + len(half.arrivals) == 2000
    assert abs(len(half.arrivals) - 1000) < 100  # binomial: 1000 ± 3σ (σ ≈ 22)
    more, _ = choose(records, rate_scale=2.5)
    assert more.added == len(more.arrivals) - 2000
    assert abs(len(more.arrivals) - 5000) < 100
    instants = [instant for instant, _ in more.arrivals]
    assert instants == sorted(instants) and instants[0] >= more.origin_us
    # Copies are moved (no two at one instant), within half a second of their original.
    assert len(set(instants)) > 0.99 * len(instants)
    assert max(instant - c.instant_us for instant, c in more.arrivals) <= SECOND // 2
    assert choose(records, rate_scale=2.5)[0].arrivals == more.arrivals  # seeded


def test_the_limit_cuts_the_replay_and_the_source_it_is_compared_with() -> None:
    records = [call(s) for s in range(10)]
    chosen, skips = choose(records, limit=4)
    assert len(chosen.arrivals) == 4
    assert skips.records == {"beyond_limit": 6}
    assert [c.record.where for c in chosen.source] == ["log:0", "log:1", "log:2", "log:3"]


@pytest.mark.parametrize(
    ("operation", "model", "target", "mode", "api"),
    [
        ("ConverseStream", "m", "bedrock-converse-stream", "logged", "bedrock-converse-stream"),
        ("Converse", "m", "bedrock-converse-stream", "logged", "bedrock-converse"),
        ("InvokeModel", "anthropic.x", "bedrock-converse", "logged", "bedrock-invoke"),
        ("InvokeModelWithResponseStream", "anthropic.x", "bedrock-converse", "logged",
         "bedrock-invoke-stream"),
        # No native InvokeModel body for the model: the same call through Converse.
        ("InvokeModelWithResponseStream", "meta.llama", "bedrock-converse", "logged",
         "bedrock-converse-stream"),
        ("ConverseStream", "m", "openai-chat", "logged", "openai-chat"),
        ("Converse", "m", "openai-chat", "logged", "openai-chat-nostream"),
        ("Converse", "m", "bedrock-converse-stream", "scenario", "bedrock-converse-stream"),
        (None, "m", "bedrock-converse", "logged", "bedrock-converse"),
    ],
)  # fmt: skip
def test_each_operation_goes_through_its_api(
    operation: str | None, model: str, target: str, mode: str, api: str
) -> None:
    assert api_of(operation, model, target, mode, lambda m: m.startswith("anthropic.")) == api


@pytest.mark.parametrize("speed", [1.0, 4.0, 0.5])
def test_offsets_are_the_logs_instants_over_speed(speed: float) -> None:
    records = [call(0, whole_second=False, unix_us=T0 + us) for us in (0, 250_000, 3_000_000)]
    chosen, _ = choose(records, speed=speed)
    requests = plan_requests(chosen, speed, "bedrock-converse-stream", "logged", lambda m: True)
    assert [r.offset_ns for r in requests] == [round(us * 1000 / speed) for us in (0, 250_000, 3e6)]


def test_spreading_keeps_each_seconds_count() -> None:
    records = [call(s) for s in range(60) for _ in range(s % 7)]
    chosen, _ = choose(records)
    per_second = statistics.multimode([(instant - T0) // SECOND for instant, _ in chosen.arrivals])
    assert per_second == [s for s in range(60) if s % 7 == 6]  # the seconds with most calls
