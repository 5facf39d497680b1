"""A model's sections about how its answers came: stop reasons and flagged outcomes, the tier
that served, prompt caching, reasoning, tool use and conversation turns (docs/metrics.md).

`answer_sections` writes them from a ModelStats; `read_answer_sections` reads them back into
one, so that `loadgen merge` and `--workers` stay exact. A section is written only when the run
had what it describes (a run without caching has no `cache`), except stop reasons and outcomes,
which every run has.
"""

from __future__ import annotations

from loadgen.core.histogram import LATENCY_MAX_US, Histogram
from loadgen.record.model_stats import ModelStats
from loadgen.record.turn_stats import TurnStats
from loadgen.report.schema import (
    CacheSection,
    ModelSection,
    OutcomeCount,
    OutcomesSection,
    ReasoningSection,
    TurnFigures,
)

# Stop reasons of answers cut short (Bedrock's StopReason).
TRUNCATIONS = ("max_tokens", "model_context_window_exceeded")
GUARDRAIL = "guardrail_intervened"
CONTENT_FILTERED = "content_filtered"
TOOL_USE = "tool_use"


def answer_sections(stats: ModelStats, section: ModelSection) -> None:
    """Add the answer sections of `stats` to its model `section`."""
    section["stop_reasons"] = dict(sorted(stats.stop_reasons.items()))
    section["outcomes"] = _outcomes(stats)
    if stats.service_tiers:
        section["service_tiers"] = dict(sorted(stats.service_tiers.items()))
    if stats.cache_read_tokens_total or stats.cache_write_tokens_total:
        section["cache"] = _cache(stats)
    if stats.reasoning_requests:
        section["reasoning"] = _reasoning(stats)
    if stats.tool_requests or stats.stop_reasons[TOOL_USE]:
        section["tool_use"] = {
            "requests": stats.tool_requests,
            "answers": stats.stop_reasons[TOOL_USE],
            "first_tool_ms": stats.latency["first_tool"].summary(1000),
        }
    if stats.turns:
        section["turns"] = {str(turn): _turn(stats.turns[turn]) for turn in sorted(stats.turns)}


def truncated(stop_reasons: dict[str, int]) -> int:
    return sum(stop_reasons.get(reason, 0) for reason in TRUNCATIONS)


def _outcomes(stats: ModelStats) -> OutcomesSection:
    def counted(count: int) -> OutcomeCount:
        return {"count": count, "rate": round(count / stats.ok, 6) if stats.ok else None}

    return {
        "guardrail_intervened": counted(stats.stop_reasons[GUARDRAIL]),
        "content_filtered": counted(stats.stop_reasons[CONTENT_FILTERED]),
        "truncated": counted(truncated(stats.stop_reasons)),
        "excluded_from_latency": sorted(stats.exclude_from_latency),
        "excluded_requests": stats.excluded,
        "excluded_output_tokens": stats.excluded_output_tokens,
    }


def _cache(stats: ModelStats) -> CacheSection:
    read, write = stats.cache_read_tokens_total, stats.cache_write_tokens_total
    all_input = stats.input_tokens_total + read + write
    requests = stats.tokens["input_tokens"].count
    return {
        "requests": requests,
        "input_tokens": stats.input_tokens_total,
        "read_tokens": read,
        "write_tokens": write,
        "hit_rate": round(read / all_input, 6) if all_input else None,
        "read_requests": stats.cache_read_requests,
        "read_request_share": (
            round(stats.cache_read_requests / requests, 6) if requests else None
        ),
        "ttft_hit_ms": stats.latency["ttft_cache_hit"].summary(1000),
        "ttft_miss_ms": stats.latency["ttft_cache_miss"].summary(1000),
    }


def _reasoning(stats: ModelStats) -> ReasoningSection:
    requests = stats.reasoning_requests
    return {
        "requests": requests,
        "tokens_total": stats.reasoning_tokens_total,
        "tokens_mean": round(stats.reasoning_tokens_total / requests, 3),
        "estimated_requests": stats.reasoning_estimated,
        "reasoning_ms": stats.latency["reasoning"].summary(1000),
    }


def _turn(turn: TurnStats) -> TurnFigures:
    ttft = turn.ttft_service.summary(1000)
    mean = turn.input_tokens_mean
    return {
        "requests": turn.requests,
        "ttft_p50_ms": ttft["p50"],
        "ttft_p99_ms": ttft["p99"],
        "input_tokens_mean": None if mean is None else round(mean, 3),
        "input_tokens_total": turn.input_tokens_total,
        "input_requests": turn.input_requests,
        "hdr": turn.ttft_service.encode(),
    }


def read_answer_sections(section: ModelSection, stats: ModelStats) -> None:
    """The inverse of answer_sections: its counters back into `stats` (whose histograms are
    already read back from the section's hdr). A report written before these sections has
    none of them: the counters stay 0."""
    stats.stop_reasons.update(section.get("stop_reasons", {}))
    if (outcomes := section.get("outcomes")) is not None:
        stats.exclude_from_latency = frozenset(outcomes["excluded_from_latency"])
        stats.excluded = outcomes["excluded_requests"]
        stats.excluded_output_tokens = outcomes["excluded_output_tokens"]
    stats.service_tiers.update(section.get("service_tiers", {}))
    if (cache := section.get("cache")) is not None:
        stats.cache_read_tokens_total = cache["read_tokens"]
        stats.cache_write_tokens_total = cache["write_tokens"]
        stats.cache_read_requests = cache["read_requests"]
    if (reasoning := section.get("reasoning")) is not None:
        stats.reasoning_requests = reasoning["requests"]
        stats.reasoning_tokens_total = reasoning["tokens_total"]
        stats.reasoning_estimated = reasoning["estimated_requests"]
    if (tool_use := section.get("tool_use")) is not None:
        stats.tool_requests = tool_use["requests"]
    for turn, figures in section.get("turns", {}).items():
        stats.turns[int(turn)] = TurnStats(
            requests=figures["requests"],
            ttft_service=Histogram.decode(figures["hdr"], LATENCY_MAX_US),
            input_tokens_total=figures["input_tokens_total"],
            input_requests=figures["input_requests"],
        )
