"""A model's answer sections in words and rows (loadgen/report/answer_sections.py writes them),
for the console summary, report.html and the compact summary: flagged outcomes, stop reasons,
cache, reasoning, tool use, tiers and turns. Each says nothing (None, no rows) for a run
without what it describes, so a plain run's summary stays as it was."""

from __future__ import annotations

from collections.abc import Mapping

from loadgen.report.schema import HistogramSummary, ModelSection

# Stop reasons of an ordinary finished answer (Bedrock's, OpenAI's): no line of their own.
PLAIN_STOPS = frozenset({"end_turn", "stop_sequence", "stop"})
EMPTY: HistogramSummary = {
    "count": 0,
    "mean": None,
    "p50": None,
    "p90": None,
    "p95": None,
    "p99": None,
    "p999": None,
    "max": None,
}
OUTCOME_WORDS = {
    "guardrail_intervened": "guardrail interventions",
    "content_filtered": "filtered by content",
    "truncated": "truncated",
}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def flagged_text(data: ModelSection) -> str | None:
    """Guardrail interventions, filtered and truncated answers, and whether the latency figures
    count them; None when there were none."""
    outcomes = data.get("outcomes")
    if outcomes is None:
        return None
    parts = [
        f"{counted['count']:,} {OUTCOME_WORDS[name]} ({_share(counted['rate'])})"
        for name, counted in (
            ("guardrail_intervened", outcomes["guardrail_intervened"]),
            ("content_filtered", outcomes["content_filtered"]),
            ("truncated", outcomes["truncated"]),
        )
        if counted["count"]
    ]
    if not parts:
        return None
    excluded = outcomes["excluded_from_latency"]
    where = (
        f"{outcomes['excluded_requests']:,} of them ({', '.join(excluded)}) left out of the "
        "latency figures"
        if excluded
        else "all in the latency figures"
    )
    return f"{', '.join(parts)} of answers; {where}"


def stop_reasons_text(data: ModelSection) -> str | None:
    """Every stop reason with its count, when any answer stopped other than plainly."""
    reasons = data.get("stop_reasons") or {}
    if not set(reasons) - PLAIN_STOPS:
        return None
    ranked = sorted(reasons.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{reason} {count:,}" for reason, count in ranked)


def cache_text(data: ModelSection) -> str | None:
    cache = data.get("cache")
    if cache is None:
        return None
    hit, miss = cache["ttft_hit_ms"], cache["ttft_miss_ms"]
    return (
        f"hit rate {_share(cache['hit_rate'])} of input tokens "
        f"({cache['read_tokens']:,} read, {cache['write_tokens']:,} written), "
        f"{_share(cache['read_request_share'])} of requests read; TTFT p50 hit "
        f"{_ms(hit['p50'])} ms, miss {_ms(miss['p50'])} ms"
    )


def reasoning_text(data: ModelSection) -> str | None:
    reasoning = data.get("reasoning")
    if reasoning is None:
        return None
    estimated = reasoning["estimated_requests"]
    tokens = f"{reasoning['tokens_mean'] or 0:,.0f} tokens mean" + (
        f" (estimated for {estimated:,})" if estimated else ""
    )
    ttfa, time = data["latency_ms"].get("ttfa") or EMPTY, reasoning["reasoning_ms"]
    return (
        f"{reasoning['requests']:,} answers, {tokens}; TTFA p50 {_ms(ttfa['p50'])} / p99 "
        f"{_ms(ttfa['p99'])} ms; reasoning p50 {_ms(time['p50'])} / p99 {_ms(time['p99'])} ms"
    )


def tool_use_text(data: ModelSection) -> str | None:
    tool_use = data.get("tool_use")
    if tool_use is None:
        return None
    first = tool_use["first_tool_ms"]
    return (
        f"answers that stopped for a tool: {tool_use['answers']:,}; first tool-use delta p50 "
        f"{_ms(first['p50'])} / p99 {_ms(first['p99'])} ms"
    )


def tiers_text(data: ModelSection) -> str | None:
    tiers = data.get("service_tiers")
    if not tiers:
        return None
    return ", ".join(f"{tier} {count:,}" for tier, count in tiers.items())


# What the console and the page say, in this order, each under its label.
ANSWER_LINES = (
    ("stop reasons", stop_reasons_text),
    ("cache", cache_text),
    ("reasoning", reasoning_text),
    ("tool use", tool_use_text),
    ("served by tier", tiers_text),
)


def answer_lines(data: ModelSection) -> list[tuple[str, str]]:
    """(label, text) for each answer section the model has."""
    return [(label, text) for label, said in ANSWER_LINES if (text := said(data)) is not None]


def turn_rows(data: ModelSection) -> list[list[str]]:
    """Per turn number of the model's conversations: answers, TTFT p50 and p99, input tokens."""
    turns = data.get("turns") or {}
    return [
        [
            turn,
            f"{figures['requests']:,}",
            _ms(figures["ttft_p50_ms"]),
            _ms(figures["ttft_p99_ms"]),
            "-" if (mean := figures["input_tokens_mean"]) is None else f"{mean:,.0f}",
        ]
        for turn, figures in sorted(turns.items(), key=lambda item: int(item[0]))
    ]


def models_with_turns(models: Mapping[str, ModelSection]) -> list[str]:
    return [model for model, data in models.items() if data.get("turns")]
