"""Samples, run information and reports for tests: sensible defaults, every field overridable.

    make_sample(3)                              a successful streamed request, id 3
    make_sample(3, error=ErrorClass.THROTTLED)  the same, refused
    make_report([...samples], target={"api": "openai-chat"})
    make_model_section(ttft_p95=420, cost_per_1k=0.08)

A test passes the values its assertions rely on, so that they read where they are used.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from loadgen.core.sample import ErrorClass, Sample

if TYPE_CHECKING:
    from loadgen.report.build import RunInfo


# A tool spec as a scenario's `tools.specs` gives it (RequestOptions' ToolOption), for tests
# of the bodies each API builds from it.
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def make_sample(request_id: int = 1, *, start_us: int | None = None, **overrides: Any) -> Sample:
    """A successful streamed request of model "m", intended at `start_us` (by default
    request_id ms into the run, so that a run of them is spread out):

        dispatched 50 us later, sent 150 us after the intended instant,
        the first token 200 ms after the send (TTFT 200 ms, 200.15 ms from the intended instant),
        then 49 gaps of 20 ms to the last byte (TPOT 20 ms; TTLT 1.18 s from the send),
        50 deltas, 100 input tokens, 50 output tokens, no cost, no server timings.

    Any field of Sample can be overridden; timings given are taken as they are (they are not
    shifted by start_us).
    """
    start = request_id * 1000 if start_us is None else start_us
    fields: dict[str, Any] = {
        "request_id": request_id,
        "model": "m",
        "row_id": "r",
        "warmup": False,
        "intended_us": start,
        "dispatch_us": start + 50,
        "send_us": start + 150,
        "first_token_us": start + 200_150,
        "end_us": start + 1_180_150,
        "itl_us": (20_000,) * 49,
        "deltas": 50,
        "input_tokens": 100,
        "output_tokens": 50,
    }
    fields.update(overrides)
    return Sample(**fields)


def make_mixed_samples() -> list[Sample]:
    """500 samples over 3 models: known latencies, every error class, warmup and dropped."""
    models = ["nova-lite", "nova-pro", "claude-haiku"]
    errors = [ErrorClass.THROTTLED] * 3 + list(ErrorClass)  # one of each, throttles commoner
    samples = []
    for i in range(500):
        model = models[i % 3]
        start = i * 10_000
        error = errors[i // 5 % len(errors)] if i % 5 == 4 else None
        warmup = i < 15
        if error is ErrorClass.DROPPED:
            samples.append(Sample(i, model, f"r{i}", warmup, start, start, error=error))
            continue
        send = start + 300 + i % 7 * 100
        first = send + 150_000 + (i % 3) * 50_000 + i * 37
        gaps = tuple(20_000 + (i * k) % 900 for k in range(1, 11))
        end = first + sum(gaps) + 500
        samples.append(
            Sample(
                request_id=i,
                model=model,
                row_id=f"r{i}",
                warmup=warmup,
                intended_us=start,
                dispatch_us=start + 200 + i % 5 * 100,
                send_us=send,
                first_token_us=first if error is None else None,
                end_us=end,
                itl_us=gaps if error is None else (),
                deltas=11,
                input_tokens=100 + i % 13,
                output_tokens=40 + i % 11 if error is None else None,
                cost_usd=0.001 * (1 + i % 4) if error is None else 0.0,
                error=error,
            )
        )
    return samples


def make_run_info(**changes: Any) -> RunInfo:
    """What a run knows beyond its samples: a completed run of scenario "s" at a target of
    1 req/s, nothing cancelled, one second long."""
    from loadgen.report.build import RunInfo

    fields: dict[str, Any] = {
        "scenario": "s",
        "started_at": "",
        "ended_at": "",
        "status": "completed",
        "target": {},
        "load": {},
        "seed": 1,
        "loadgen_version": "0",
        "target_rps": 1.0,
        "scheduled_rps": None,
        "achieved_rps": None,
        "scheduled": 0,
        "cancelled": 0,
        "cpu_percent": 1.0,
        "wall_s": 1.0,
    }
    fields.update(changes)
    return RunInfo(**fields)


def make_report(samples: Iterable[Sample], **info_changes: Any) -> dict[str, Any]:
    """The report the run's own code builds from these samples: a Recorder fed them (apart per
    model for `compared_api`, as a compare_streaming run has it), then build_report. The run
    scheduled as many requests as there are samples unless `scheduled` says otherwise."""
    from loadgen.record.recorder import Recorder
    from loadgen.report.build import build_report

    samples = list(samples)
    info = make_run_info(**{"scheduled": len(samples), **info_changes})
    recorder = Recorder(compared_api=info.compared_api)
    for sample in samples:
        recorder.add(sample)
    return build_report(info, recorder)


def make_model_section(
    *,
    ttft_p95: float | None = None,
    ttlt_p95: float | None = None,
    error_rate: float | None = 0.0,
    cost_per_1k: float | None = None,
    quality: float | None = None,
) -> dict[str, Any]:
    """A report's section for one model with only the figures that thresholds and the verdict
    read: each p50 is half its p95, 100 output tokens/s; cost and quality are None (unpriced,
    unscored) unless given."""

    def half(value: float | None) -> float | None:
        return None if value is None else value / 2

    return {
        "requests": {"error_rate": error_rate},
        "latency_ms": {
            "ttft": {"service": {"p50": half(ttft_p95), "p95": ttft_p95}},
            "ttlt": {"service": {"p50": half(ttlt_p95), "p95": ttlt_p95}},
        },
        "throughput": {"output_tokens_per_s": 100.0},
        "cost": None if cost_per_1k is None else {"per_1k_answered_usd": cost_per_1k},
        "quality": None
        if quality is None
        else {"score": {"mean": quality, "p10": quality - 0.1, "p50": quality}},
    }
