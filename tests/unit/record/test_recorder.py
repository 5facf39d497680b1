"""The recorder folds Samples into HDR histograms and counters."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from hdrh.histogram import HdrHistogram

from loadgen.core.histogram import LATENCY_MAX_US, Histogram
from loadgen.core.sample import ErrorClass, read_samples
from loadgen.record.recorder import Recorder
from loadgen.record.second_stats import LogBuckets
from loadgen.sinks.jsonl import JsonlSink
from tests.factories import make_sample


def test_out_of_range_values_are_counted_not_lost() -> None:
    histogram = Histogram(1000)
    histogram.record(999)
    histogram.record(10**9)
    assert histogram.count == 1
    assert histogram.out_of_range == 1


def test_percentiles_within_hdr_precision() -> None:
    histogram = Histogram(LATENCY_MAX_US)
    for value in range(1, 100_001):
        histogram.record(value)
    summary = histogram.summary()
    assert summary["p50"] == pytest.approx(50_000, rel=0.001)
    assert summary["p99"] == pytest.approx(99_000, rel=0.001)
    assert summary["count"] == 100_000


def test_encoded_histogram_decodes_to_the_same_counts() -> None:
    histogram = Histogram(LATENCY_MAX_US)
    for value in (10, 200, 3000, 3000):
        histogram.record(value)
    decoded = HdrHistogram.decode(histogram.encode())
    assert decoded.get_total_count() == 4
    assert decoded.get_value_at_percentile(50) == histogram.hdr.get_value_at_percentile(50)


def test_recorder_splits_service_and_response_time_and_classes() -> None:
    recorder = Recorder()
    recorder.add(make_sample(0))
    recorder.add(make_sample(1, warmup=True))
    recorder.add(make_sample(2, error=ErrorClass.THROTTLED, first_token_us=None, itl_us=()))
    recorder.add(
        make_sample(
            3, error=ErrorClass.DROPPED, send_us=None, first_token_us=None, end_us=None, itl_us=()
        )
    )
    stats = recorder.models["m"]
    assert (stats.sent, stats.ok) == (2, 1)
    assert stats.errors == {"throttled": 1, "dropped": 1}
    assert recorder.warmup == 1 and recorder.dropped == 1
    ttft_service = stats.latency["ttft_service"].summary(1000)
    ttft_response = stats.latency["ttft_response"].summary(1000)
    assert ttft_service["p50"] == pytest.approx(200.0, abs=0.2)
    assert ttft_response["p50"] == pytest.approx(200.15, abs=0.2)
    assert stats.latency["itl"].count == 49  # only the successful request's gaps
    assert stats.latency["tpot"].summary(1000)["p50"] == pytest.approx(980 / 49, abs=0.05)
    series = recorder.series.to_json()
    assert sum(series["sends"]) == 3 and sum(series["errors"]) == 2


def test_samples_round_trip_through_jsonl(tmp_path: Path) -> None:
    # samples.jsonl can be replayed: what is read back records as what was written.
    written = [make_sample(0), make_sample(1, error=ErrorClass.TIMEOUT, error_code="TotalTimeout")]
    sink = JsonlSink(tmp_path / "samples.jsonl")
    sink.start()
    for item in written:
        sink.add(item)
    sink.stop()
    read, live = Recorder(), Recorder()
    for item in read_samples(tmp_path / "samples.jsonl"):
        read.add(item)
    for item in written:
        live.add(item)
    assert _figures(read) == _figures(live)


def _figures(recorder: Recorder) -> tuple[object, ...]:
    stats = recorder.models["m"]
    histograms = {**stats.latency, **stats.tokens}
    return (
        stats.sent,
        stats.ok,
        dict(stats.errors),
        dict(stats.error_codes),
        {name: histogram.summary() for name, histogram in histograms.items()},
    )


def _long_run(recorder: Recorder, seconds: int, per_second: int) -> None:
    """Samples spread over `seconds`, with a few very long requests whose values arrive at
    their end into seconds long since sealed."""
    for i in range(seconds * per_second):
        start = i * 1_000_000 // per_second
        recorder.add(
            make_sample(
                i,
                intended_us=start,
                dispatch_us=start + 50 + i % 700,
                send_us=start + 150,
                first_token_us=start + 200_000 + 37 * (i % 1000),
                end_us=start + 1_180_000 + 53 * (i % 1000),
            )
        )
        if i % 997 == 0:  # a request 5 minutes long: its TTFT second was sealed long ago
            recorder.add(
                make_sample(
                    10**6 + i,
                    intended_us=max(start - 300_000_000, 0),
                    dispatch_us=max(start - 300_000_000, 0) + 80,
                    send_us=max(start - 300_000_000, 0) + 200,
                    first_token_us=max(start - 300_000_000, 0) + 250_000,
                    end_us=start,
                )
            )


def test_sealed_and_frozen_seconds_give_the_same_series() -> None:
    # Requests last at most 300 s here, so seconds 360 s back can be frozen.
    compact, keeping = Recorder(freeze_after_s=360), Recorder(freeze_after_s=10**9)
    keeping.series.detail.SEAL_AFTER_S = 10**9  # never seals
    _long_run(compact, 800, 20)
    _long_run(keeping, 800, 20)
    detail = compact.series.detail
    assert len(detail.frozen_ttft["m"]) > 400  # the oldest seconds keep only their figures
    assert sum(b.sealed for b in detail.ttft["m"].values()) > 250  # the next ones are sealed
    assert not any(b.sealed for b in keeping.series.detail.ttft["m"].values())
    assert detail.late_values == 0
    assert compact.series.to_json() == keeping.series.to_json()
    assert detail.recent_ttft_ms("m", 799, 10) == keeping.series.detail.recent_ttft_ms("m", 799, 10)


def test_a_value_for_a_frozen_second_is_counted_not_misplaced() -> None:
    recorder = Recorder(freeze_after_s=60)
    _long_run(recorder, 200, 5)  # its 300-s requests outlive the 60-s horizon
    detail = recorder.series.detail
    assert detail.late_values > 0
    assert recorder.models["m"].sent == 200 * 5 + len(range(0, 1000, 997))  # HDR has them all


def test_a_sealed_second_takes_a_quarter_of_the_memory_or_less() -> None:
    def size(seal: bool) -> int:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        kept = []
        for second in range(200):
            buckets = LogBuckets()
            for value in range(150_000, 400_000, 1000):  # 250 values over ~40 buckets
                buckets.add(value + second)
            if seal:
                buckets.seal()
            kept.append(buckets)
        used = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        return used

    assert size(seal=True) < size(seal=False) / 4  # measured: about a sixth
