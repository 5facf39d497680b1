"""report.json's `replay` section: what a replay read and skipped, the rules it followed, and
the source beside what was replayed (arrivals per second, token distributions, model and
operation mix). Built after the run from the plan and the run's samples.jsonl, off the
measured path. Field by field: docs/report.md, "replay"."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from loadgen.core.sample import ErrorClass, Sample, read_samples
from loadgen.replay.instants import iso_utc
from loadgen.replay.planning import ReplayRequest
from loadgen.replay.records import ReplayRecord
from loadgen.replay.replay_plan import ReplayPlan
from loadgen.replay.spreading import SPREADING_RULE
from loadgen.report.replay_types import (
    ReplayArrivals,
    ReplayDistribution,
    ReplayModelMix,
    ReplayOperationMix,
    ReplayOptionsSent,
    ReplaySection,
    ReplayTokens,
)

MAX_BINS = 600  # arrivals per bin: one-second bins up to 10 minutes, wider beyond
NO_OPERATION = "-"  # a trace's calls name no operation

# What AWS documents about `timestamp`, and so why the default is what it is (docs/replay.md).
TIMESTAMP_NOTE = (
    "AWS documents the invocation log's timestamp as an RFC 3339 time to the second but not "
    "whether it marks the call's start or end; replay.timestamp_is says which is assumed "
    "(end: moved back by the logged latencyMs)"
)


def replay_section(plan: ReplayPlan, samples: Iterable[Sample]) -> ReplaySection:
    spec, selection, read = plan.spec, plan.selection, plan.read
    sent = [
        s
        for s in samples
        if not s.warmup and s.error is not ErrorClass.DROPPED and s.request_id >= plan.first_id
    ]
    ok = [s for s in sent if s.error is None]
    source = selection.source
    speed = spec.speed
    source_offsets_s = [(call.instant_us - selection.origin_us) / 1e6 / speed for call in source]
    sent_offsets_s = [s.dispatch_us / 1e6 for s in sent]
    records = [call.record for call in source]
    asked = [request.call.record for request in plan.requests]
    return {
        "sources": list(spec.source),
        "layouts": dict(read.layouts),
        "files": read.files,
        "records": len(read.records),
        "skipped_records": dict(read.skips.records),
        "skipped_files": dict(read.skips.files),
        "skipped_examples": [
            {"reason": skip.reason, "where": skip.where, "detail": skip.detail}
            for skip in read.skips.examples
        ],
        "selected": len(source),
        "planned": len(plan.requests),
        "sent": len(sent),
        "speed": speed,
        "rate_scale": spec.rate_scale,
        "thinned": selection.thinned,
        "added": selection.added,
        "window": spec.window,
        "limit": spec.limit,
        "model_map": dict(spec.map),
        "api": spec.api,
        "timestamps": {
            "marks": spec.timestamp_is,
            "corrected_by_latency": selection.corrected,
            "not_corrected": selection.not_corrected,
            "first_utc": iso_utc(source[0].instant_us) if source else None,
            "last_utc": iso_utc(source[-1].instant_us) if source else None,
        },
        "spreading": {
            "rule": SPREADING_RULE,
            "seed": plan.seed,
            "seconds_spread": selection.spread_seconds,
        },
        "prompts": {
            "logged": plan.prompts.made["logged"],
            "synthetic": plan.prompts.made["synthetic"],
            "token_method": {str(method): count for method, count in plan.prompts.methods.items()},
        },
        "latency_optimized": sum(record.latency_optimized for record in records),
        "cache_read": sum(record.cache_read_tokens > 0 for record in records),
        "cache_write": sum(record.cache_write_tokens > 0 for record in records),
        "options_sent": _options_sent(plan, sent),
        "options_left_out": dict(
            Counter(name for request in _sent_requests(plan, sent) for name in request.left_out)
        ),
        "arrivals": arrivals(source_offsets_s, sent_offsets_s),
        "input_tokens": ReplayTokens(
            source=distribution(record.prompt_tokens for record in records),
            asked=distribution(record.prompt_tokens for record in asked),
            replayed=distribution(
                (s.input_tokens or 0) + (s.cache_read_tokens or 0) + (s.cache_write_tokens or 0)
                for s in ok
                if s.input_tokens is not None
            ),
        ),
        "output_tokens": ReplayTokens(
            source=distribution(record.output_tokens for record in records),
            asked=distribution(max(1, record.output_tokens) for record in asked),
            replayed=distribution(s.output_tokens for s in ok if s.output_tokens is not None),
        ),
        "models": _models(plan, sent),
        "operations": _operations(plan, sent),
        "notes": _notes(plan, records),
    }


def distribution(values: Iterable[int]) -> ReplayDistribution:
    """Count, mean and nearest-rank percentiles (exact: every value is kept)."""
    ordered = sorted(values)
    if not ordered:
        return {"count": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}

    def rank(q: float) -> float:
        return float(ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1])

    return {
        "count": len(ordered),
        "mean": round(sum(ordered) / len(ordered), 3),
        "p50": rank(50),
        "p95": rank(95),
        "p99": rank(99),
        "max": float(ordered[-1]),
    }


def arrivals(source_s: Sequence[float], replayed_s: Sequence[float]) -> ReplayArrivals:
    """Counts per bin of replay time; bins of a whole number of seconds, at most MAX_BINS."""
    span_s = max([0.0, *source_s, *replayed_s])
    bin_s = float(max(1, math.ceil(span_s / MAX_BINS)))
    bins = int(span_s // bin_s) + 1

    def counts(offsets: Sequence[float]) -> list[int]:
        out = [0] * bins
        for offset in offsets:
            out[min(bins - 1, max(0, int(offset // bin_s)))] += 1
        return out

    def mean_rps(offsets: Sequence[float]) -> float | None:
        if len(offsets) < 2:
            return None
        spread = max(offsets) - min(offsets)
        return round((len(offsets) - 1) / spread, 3) if spread > 0 else None

    return {
        "bin_s": bin_s,
        "source": counts(source_s),
        "replayed": counts(replayed_s),
        "source_rps": mean_rps(source_s),
        "replayed_rps": mean_rps(replayed_s),
    }


def _models(plan: ReplayPlan, sent: list[Sample]) -> list[ReplayModelMix]:
    logged: dict[str, Counter[str]] = defaultdict(Counter)
    for call in plan.selection.source:
        logged[call.model][call.record.model or NO_OPERATION] += 1
    replayed = Counter(s.model for s in sent)
    return [
        {
            "model": model,
            "source_models": sorted(logged[model]),
            "source": sum(logged[model].values()),
            "replayed": replayed[model],
        }
        for model in dict.fromkeys([*logged, *replayed])
    ]


def _operations(plan: ReplayPlan, sent: list[Sample]) -> list[ReplayOperationMix]:
    def key(operation: str | None, api: str) -> tuple[str, str]:
        return operation or NO_OPERATION, api

    source: Counter[tuple[str, str]] = Counter()
    api_of_call = {id(request.call): request.api for request in plan.requests}
    for call in plan.selection.source:
        # A call thinned out by rate_scale was planned nowhere: it goes as its operation would.
        api = api_of_call.get(id(call), plan.scenario.target.api)
        source[key(call.record.operation, api)] += 1
    replayed: Counter[tuple[str, str]] = Counter()
    for s in sent:
        index = s.request_id - plan.first_id
        if 0 <= index < len(plan.requests):
            request = plan.requests[index]
            replayed[key(request.call.record.operation, request.api)] += 1
    return [
        {"operation": operation, "api": api, "source": source[pair], "replayed": replayed[pair]}
        for pair in dict.fromkeys([*source, *replayed])
        for operation, api in [pair]
    ]


def _sent_requests(plan: ReplayPlan, sent: list[Sample]) -> list[ReplayRequest]:
    """The planned request of each sample sent."""
    indices = (s.request_id - plan.first_id for s in sent)
    return [plan.requests[i] for i in indices if 0 <= i < len(plan.requests)]


def _options_sent(plan: ReplayPlan, sent: list[Sample]) -> ReplayOptionsSent:
    counts: Counter[str] = Counter()
    for request in _sent_requests(plan, sent):
        options, prompt = request.options, request.call.record.request
        counts["latency_optimized"] += options.latency == "optimized"
        counts["service_tier"] += options.service_tier is not None
        counts["cached"] += options.cache is not None
        counts["tools"] += options.tools is not None
        counts["reasoning"] += options.reasoning is not None
        counts["history"] += prompt is not None and bool(prompt.history)
        counts["additional_fields"] += options.additional_fields is not None
    return {
        "latency_optimized": counts["latency_optimized"],
        "service_tier": counts["service_tier"],
        "cached": counts["cached"],
        "tools": counts["tools"],
        "reasoning": counts["reasoning"],
        "history": counts["history"],
        "additional_fields": counts["additional_fields"],
    }


def _notes(plan: ReplayPlan, records: list[ReplayRecord]) -> list[str]:
    spec = plan.spec
    notes = [TIMESTAMP_NOTE]
    left_out: Counter[str] = Counter(name for r in plan.requests for name in r.left_out)
    if left_out:
        notes.append(
            "logged options not sent ("
            + ", ".join(f"{name} {count}" for name, count in sorted(left_out.items()))
            + "): a reasoning setting or model fields go only to a model of the logged "
            "model's provider, and a chat API has no latency, reserved tier or reasoning budget"
        )
    if plan.selection.not_corrected and spec.timestamp_is == "end":
        notes.append(
            f"{plan.selection.not_corrected} calls had no latencyMs to move their timestamp "
            "back by: they are replayed at their logged instant"
        )
    return notes


def replay_report(plan: ReplayPlan, out_dir: Path) -> ReplaySection:
    """The section for a run that wrote its samples to out_dir/samples.jsonl (none: nothing
    was sent, and the replayed side is empty)."""
    path = out_dir / "samples.jsonl"
    return replay_section(plan, read_samples(path) if path.exists() else ())
