"""report.json's `replay` section from a plan and a run's samples: the source beside what was
replayed, skips carried over whole, and every field in the report's schema."""

from __future__ import annotations

from dataclasses import replace

from loadgen.config.scenario import scenario_from_dict
from loadgen.core.sample import ErrorClass
from loadgen.replay.planning import ReplayPrompts, plan_requests, prompts_ahead
from loadgen.replay.read_result import ReadResult
from loadgen.replay.records import ReplayRecord
from loadgen.replay.replay_plan import ReplayPlan
from loadgen.replay.selection import select
from loadgen.report.replay_section import arrivals, distribution, replay_section
from loadgen.report.replay_types import ReplaySection
from loadgen.report.schema import _adapter
from tests.factories import make_sample

T0 = 1_748_959_200_000_000


def plan_of(records: list[ReplayRecord], speed: float = 2.0) -> ReplayPlan:
    scenario = scenario_from_dict(
        {"name": "r", "load": {"replay": {"source": "x", "speed": speed}}}
    )
    assert scenario.load.replay is not None
    read = ReadResult(records=records)
    read.layouts["bedrock-invocation-log"] = len(records)
    read.skips.record("malformed_record", "x:9", "not JSON")
    selection = select(records, scenario.load.replay, 3, None, read.skips)
    requests = plan_requests(selection, speed, "bedrock-converse-stream", "logged", lambda m: False)
    prompts = ReplayPrompts(3)
    ready = prompts_ahead(requests, prompts)
    return ReplayPlan(scenario, scenario.load.replay, 3, read, selection, requests, prompts, ready)


def test_nearest_rank_percentiles_of_every_value() -> None:
    assert distribution(range(1, 101)) == {
        "count": 100,
        "mean": 50.5,
        "p50": 50.0,
        "p95": 95.0,
        "p99": 99.0,
        "max": 100.0,
    }
    assert distribution([])["p50"] is None


def test_arrivals_are_binned_side_by_side() -> None:
    side = arrivals([0.1, 0.2, 1.5, 2.9], [0.12, 1.6, 2.95])
    assert side["bin_s"] == 1.0
    assert (side["source"], side["replayed"]) == ([2, 1, 1], [1, 1, 1])
    wide = arrivals([0.0, 1300.0], [])
    assert wide["bin_s"] == 3.0 and len(wide["source"]) <= 600


def test_the_section_compares_source_and_replayed() -> None:
    records = [
        ReplayRecord(
            unix_us=T0 + second * 1_000_000,
            whole_second=True,
            model="claude" if second % 2 else "nova",
            operation="Converse" if second % 3 else "ConverseStream",
            input_tokens=100 + second,
            output_tokens=10 + second,
            cache_read_tokens=50 if second == 4 else 0,
            where=f"x:{second}",
        )
        for second in range(10)
    ]
    plan = plan_of(records)
    first_id = 100
    planned = list(plan.planned(first_id))
    samples = [
        make_sample(
            p.request.request_id,
            model=p.request.model,
            start_us=p.offset_ns // 1000,
            input_tokens=p.request.max_tokens * 10,
            output_tokens=p.request.max_tokens,
            # One throttled (sent, no usage) and one dropped (never sent).
            error={0: ErrorClass.THROTTLED, 1: ErrorClass.DROPPED}.get(index),
        )
        for index, p in enumerate(planned)
    ]
    section = replay_section(plan, [replace(samples[2], warmup=True), *samples[3:], *samples[:2]])
    _adapter(ReplaySection).validate_python(section, strict=True)
    assert (section["records"], section["selected"], section["planned"]) == (10, 10, 10)
    assert section["sent"] == 8  # warmup and dropped are not the replay's
    assert section["skipped_records"] == {"malformed_record": 1}
    assert section["input_tokens"]["source"]["max"] == 104 + 50  # the prompt counts its cache
    assert section["output_tokens"]["asked"]["p50"] == 14.0
    assert section["output_tokens"]["replayed"]["count"] == 7  # the successful ones
    assert section["cache_read"] == 1
    assert {(m["model"], m["source"], m["replayed"]) for m in section["models"]} == {
        ("nova", 5, 4),
        ("claude", 5, 4),
    }
    assert {(o["operation"], o["api"], o["source"]) for o in section["operations"]} == {
        ("ConverseStream", "bedrock-converse-stream", 4),
        ("Converse", "bedrock-converse", 6),
    }
    # At speed 2, ten seconds of log are five of replay.
    assert len(section["arrivals"]["source"]) == 5
    assert sum(section["arrivals"]["source"]) == 10
    assert sum(section["arrivals"]["replayed"]) == 8
    # The call logged with cache reads (and no body) was sent with a cache point.
    assert section["options_sent"]["cached"] == 1
    assert sum(section["options_sent"].values()) == 1 and section["options_left_out"] == {}
    assert all(p.request.prompt.user for p in planned)
