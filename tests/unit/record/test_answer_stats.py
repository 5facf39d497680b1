"""A model's answer figures: stop reasons, the outcomes a scenario leaves out of latency, the
prompt cache, reasoning, tool use, tiers and conversation turns, folded from Samples."""

from __future__ import annotations

import pytest

from loadgen.core.sample import ErrorClass, Sample
from loadgen.record.model_stats import ModelStats
from loadgen.record.recorder import Recorder
from tests.factories import make_sample

pytestmark = pytest.mark.unit


def _reasoned(request_id: int, reasoning_ms: int, **overrides: object) -> Sample:
    """A streamed answer that reasoned for `reasoning_ms` after its first token."""
    first = make_sample(request_id).first_token_us
    assert first is not None
    fields: dict[str, object] = {
        "first_reasoning_us": first,
        "first_answer_us": first + reasoning_ms * 1000,
        "reasoning_tokens": 40,
        "stop_reason": "end_turn",
    }
    fields.update(overrides)
    return make_sample(request_id, **fields)


def test_stop_reasons_are_counted_for_answers_only() -> None:
    stats = ModelStats()
    reasons = ["end_turn", "end_turn", "max_tokens", "guardrail_intervened", "tool_use"]
    for i, reason in enumerate(reasons):
        stats.add(make_sample(i, stop_reason=reason))
    stats.add(make_sample(9, stop_reason="end_turn", error=ErrorClass.SERVER))
    assert dict(stats.stop_reasons) == {r: reasons.count(r) for r in set(reasons)}


def test_excluded_outcomes_are_counted_but_leave_the_latency_figures() -> None:
    recorder = Recorder(exclude_from_latency=frozenset({"guardrail_intervened"}))
    kept = [make_sample(i, stop_reason="end_turn") for i in range(3)]
    # An intervention answers at once: 5 ms, a TTFT no ordinary answer has.
    stopped = make_sample(
        3, stop_reason="guardrail_intervened", first_token_us=make_sample(3).send_us + 5000
    )
    for sample in [*kept, stopped]:
        recorder.add(sample)
    stats = recorder.models["m"]
    assert (stats.ok, stats.excluded) == (4, 1)
    assert stats.excluded_output_tokens == stopped.output_tokens
    assert stats.stop_reasons["guardrail_intervened"] == 1
    ttft = stats.latency["ttft_service"]
    assert ttft.count == len(kept)
    assert ttft.hdr.get_min_value() == pytest.approx(min(s.ttft_service_us for s in kept), rel=1e-3)


def test_without_exclusions_every_answer_counts_in_latency() -> None:
    stats = ModelStats()
    for i, reason in enumerate(["end_turn", "guardrail_intervened", "content_filtered"]):
        stats.add(make_sample(i, stop_reason=reason))
    assert stats.latency["ttft_service"].count == 3 and stats.excluded == 0


def test_cache_tokens_and_ttft_split_by_hit_and_miss() -> None:
    stats = ModelStats()
    miss = make_sample(1, cache_write_tokens=900, stop_reason="end_turn")
    hit_first = make_sample(2).send_us + 50_000  # a hit answers sooner
    hits = [
        make_sample(i, cache_read_tokens=900, first_token_us=make_sample(i).send_us + 50_000)
        for i in (2, 3)
    ]
    for sample in [miss, *hits]:
        stats.add(sample)
    assert stats.cache_read_tokens_total == sum(s.cache_read_tokens or 0 for s in hits)
    assert stats.cache_write_tokens_total == miss.cache_write_tokens
    assert stats.cache_read_requests == len(hits)
    hit, missed = stats.latency["ttft_cache_hit"], stats.latency["ttft_cache_miss"]
    assert (hit.count, missed.count) == (2, 1)
    assert hit.hdr.get_max_value() == pytest.approx(hit_first - make_sample(2).send_us, rel=1e-3)
    assert missed.hdr.get_min_value() == pytest.approx(miss.ttft_service_us, rel=1e-3)


def test_reasoning_time_tokens_and_time_to_first_answer() -> None:
    stats = ModelStats()
    reasoned = [_reasoned(i, 300 + 100 * i) for i in range(3)]
    estimated = _reasoned(3, 200, reasoning_tokens=10, reasoning_tokens_estimated=True)
    plain = make_sample(4, first_answer_us=make_sample(4).first_token_us)
    for sample in [*reasoned, estimated, plain]:
        stats.add(sample)
    assert stats.reasoning_requests == 4
    assert stats.reasoning_tokens_total == sum(
        s.reasoning_tokens or 0 for s in [*reasoned, estimated]
    )
    assert stats.reasoning_estimated == 1
    reasoning = stats.latency["reasoning"]
    assert reasoning.count == 4
    assert reasoning.hdr.get_max_value() == pytest.approx(reasoned[-1].reasoning_us, rel=1e-3)
    ttfa = stats.latency["ttfa_service"]
    assert ttfa.count == 5  # every answer's, the plain one's (its TTFT) too
    # TTFA is TTFT plus the reasoning time.
    assert ttfa.hdr.get_max_value() == pytest.approx(
        reasoned[-1].ttft_service_us + reasoned[-1].reasoning_us, rel=1e-3
    )


def test_tool_use_tiers_and_turns() -> None:
    stats = ModelStats()
    samples = []
    for session in range(2):
        for turn in (1, 2, 3):
            i = session * 10 + turn
            first = make_sample(i).send_us + 100_000 * turn  # TTFT grows with the context
            samples.append(
                make_sample(
                    i,
                    session_id=session,
                    turn=turn,
                    input_tokens=1000 * turn,
                    first_token_us=first,
                    first_tool_us=first if turn == 1 else None,
                    stop_reason="tool_use" if turn == 1 else "end_turn",
                    service_tier="priority" if session else "default",
                )
            )
    for sample in samples:
        stats.add(sample)
    assert stats.tool_requests == 2 and stats.stop_reasons["tool_use"] == 2
    assert stats.latency["first_tool"].count == 2
    assert dict(stats.service_tiers) == {"default": 3, "priority": 3}
    assert sorted(stats.turns) == [1, 2, 3]
    for turn, figures in stats.turns.items():
        of_turn = [s for s in samples if s.turn == turn]
        assert figures.requests == len(of_turn)
        assert figures.input_tokens_mean == sum(s.input_tokens or 0 for s in of_turn) / len(of_turn)
        assert figures.ttft_service.hdr.get_max_value() == pytest.approx(
            max(s.ttft_service_us or 0 for s in of_turn), rel=1e-3
        )


def test_merging_adds_every_answer_figure() -> None:
    samples = [
        _reasoned(1, 300, cache_read_tokens=500, turn=1, session_id=1, service_tier="flex"),
        make_sample(2, stop_reason="max_tokens", cache_write_tokens=500, turn=2, session_id=1),
    ]
    whole, first, second = ModelStats(), ModelStats(), ModelStats()
    for sample in samples:
        whole.add(sample)
    first.add(samples[0])
    second.add(samples[1])
    first.merge(second)
    for name in (
        "stop_reasons",
        "service_tiers",
        "cache_read_tokens_total",
        "cache_write_tokens_total",
        "cache_read_requests",
        "reasoning_requests",
        "reasoning_tokens_total",
    ):
        assert getattr(first, name) == getattr(whole, name), name
    assert sorted(first.turns) == sorted(whole.turns)
    assert first.latency["ttfa_service"].count == whole.latency["ttfa_service"].count
