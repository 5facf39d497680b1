"""report.json's answer sections per model: stop reasons and outcomes, cache hit rate, reasoning,
tool use, tiers and turns; written only for what the run had, valid against the schema, and
read back exactly (loadgen merge)."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from loadgen.core.sample import Sample
from loadgen.report.build import model_sections, model_stats_from_section
from loadgen.report.schema import json_schema
from tests.factories import make_report, make_sample

pytestmark = pytest.mark.unit


def _workload() -> list[Sample]:
    """A cached, reasoning, tool-using conversation workload with a guardrail stop."""
    samples = []
    for i in range(1, 9):
        first = make_sample(i).first_token_us
        assert first is not None
        turn = (i - 1) % 2 + 1
        samples.append(
            make_sample(
                i,
                session_id=(i - 1) // 2,
                turn=turn,
                input_tokens=200 * turn,
                cache_write_tokens=1000 if turn == 1 else None,
                cache_read_tokens=1000 if turn == 2 else None,
                first_reasoning_us=first,
                first_answer_us=None if turn == 1 else first + 150_000,
                first_tool_us=first + 150_000 if turn == 1 else None,
                reasoning_tokens=30 + i,
                stop_reason="tool_use" if turn == 1 else "end_turn",
                service_tier="default",
            )
        )
    samples.append(make_sample(9, stop_reason="guardrail_intervened"))
    samples.append(make_sample(10, stop_reason="max_tokens"))
    return samples


def _model(report: dict[str, Any]) -> dict[str, Any]:
    """The model's section, checked against the report's JSON Schema (no unknown keys)."""
    section: dict[str, Any] = report["models"]["m"]
    schema = json_schema()
    Draft202012Validator({"$defs": schema["$defs"], **schema["$defs"]["ModelSection"]}).validate(
        section
    )
    return section


def test_a_plain_run_has_stop_reasons_and_outcomes_and_nothing_else_new() -> None:
    report = make_report([make_sample(i, stop_reason="end_turn") for i in range(5)])
    model = _model(report)
    assert model["stop_reasons"] == {"end_turn": 5}
    assert model["outcomes"]["truncated"] == {"count": 0, "rate": 0.0}
    assert not {"cache", "reasoning", "tool_use", "turns", "service_tiers"} & set(model)


def test_every_section_of_a_workload_that_has_them() -> None:
    samples = _workload()
    report = make_report(samples)
    model = _model(report)
    answered = len(samples)
    assert model["stop_reasons"] == {
        reason: sum(s.stop_reason == reason for s in samples)
        for reason in {s.stop_reason for s in samples}
    }
    outcomes = model["outcomes"]
    assert outcomes["guardrail_intervened"] == {"count": 1, "rate": round(1 / answered, 6)}
    assert outcomes["truncated"]["count"] == 1
    assert outcomes["excluded_from_latency"] == [] and outcomes["excluded_requests"] == 0

    cache = model["cache"]
    read = sum(s.cache_read_tokens or 0 for s in samples)
    write = sum(s.cache_write_tokens or 0 for s in samples)
    uncached = sum(s.input_tokens or 0 for s in samples)
    assert (cache["read_tokens"], cache["write_tokens"], cache["input_tokens"]) == (
        read,
        write,
        uncached,
    )
    assert cache["hit_rate"] == round(read / (uncached + read + write), 6)
    readers = sum(bool(s.cache_read_tokens) for s in samples)
    assert cache["read_requests"] == readers
    assert cache["read_request_share"] == round(readers / len(samples), 6)
    assert cache["ttft_hit_ms"]["count"] == readers
    assert cache["ttft_miss_ms"]["count"] == len(samples) - readers

    reasoning = model["reasoning"]
    reasoned = [s for s in samples if s.reasoning_tokens is not None]
    assert reasoning["requests"] == len(reasoned)
    assert reasoning["tokens_total"] == sum(s.reasoning_tokens or 0 for s in reasoned)
    assert reasoning["reasoning_ms"]["p50"] == pytest.approx(150.0, rel=1e-3)
    tool_use = model["tool_use"]
    assert tool_use["answers"] == tool_use["requests"] == sum(s.turn == 1 for s in samples)
    assert model["service_tiers"] == {"default": len(reasoned)}
    assert list(model["turns"]) == ["1", "2"]
    second = [s for s in samples if s.turn == 2]
    assert model["turns"]["2"]["requests"] == len(second)
    # Every input token: a cached conversation's context grows in its cache reads.
    every_input = [
        (s.input_tokens or 0) + (s.cache_read_tokens or 0) + (s.cache_write_tokens or 0)
        for s in second
    ]
    assert model["turns"]["2"]["input_tokens_mean"] == pytest.approx(sum(every_input) / len(second))


def test_excluded_outcomes_leave_latency_and_throughput_and_say_so() -> None:
    from loadgen.record.recorder import Recorder
    from loadgen.report.build import build_report
    from tests.factories import make_run_info

    samples = _workload()
    recorder = Recorder(exclude_from_latency=frozenset({"guardrail_intervened", "max_tokens"}))
    for sample in samples:
        recorder.add(sample)
    report = build_report(make_run_info(scheduled=len(samples)), recorder)
    model = _model(report)
    everything = _model(make_report(samples))
    outcomes = model["outcomes"]
    assert outcomes["excluded_from_latency"] == ["guardrail_intervened", "max_tokens"]
    assert outcomes["excluded_requests"] == 2
    assert model["latency_ms"]["ttft"]["service"]["count"] == len(samples) - 2
    assert model["requests"]["ok"] == everything["requests"]["ok"]  # still answers
    assert model["throughput"]["ok_per_s"] < everything["throughput"]["ok_per_s"]


def test_the_sections_read_back_to_the_same_report() -> None:
    report = make_report(_workload())
    section = report["models"]["m"]
    stats = model_stats_from_section(section)
    rebuilt = model_sections({"m": stats}, report["run"]["cost"])["m"]
    for key in ("stop_reasons", "outcomes", "service_tiers", "cache", "reasoning", "turns"):
        assert rebuilt[key] == section[key], key
