"""CloudWatch: Values/Counts encoding, call chunking, and the sink's sending (retries, back-off,
a dead endpoint). The sink against moto in server mode: tests/e2e/test_cloudwatch.py."""

from __future__ import annotations

import asyncio
import math
import random
import time
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from loadgen.cloudwatch.sink import COUNTERS, CloudWatchSink, RetryPolicy, is_retryable
from loadgen.cloudwatch.values import (
    MAX_CALL_BYTES,
    chunk_metric_data,
    estimate_call_overhead,
    estimate_datum_bytes,
)
from loadgen.core.histogram import LATENCY_MAX_US, Histogram
from loadgen.core.histogram_buckets import (
    Encoded,
    encode_buckets,
    encode_histogram,
    nearest_rank,
    recorded_buckets,
)
from tests.factories import make_mixed_samples
from tests.helpers import closed_port, serialized_size

REGION = "us-east-1"
KEY_ID = "testing"
SECRET = "testing"
HDR_BUCKET = 2**-10  # the widest HDR bucket of 3 significant digits, relative to its start


# --- Values/Counts --------------------------------------------------------------------------


def histogram_of(values: list[int]) -> Histogram:
    histogram = Histogram(LATENCY_MAX_US)
    for value in values:
        histogram.record(value)
    return histogram


def a_priori_bound(low: int, high: int) -> float:
    """The documented worst case of max_relative_error for data spanning [low, high]."""
    return float((1 + HDR_BUCKET) * (high / low) ** (1 / 150) * (1 + 1e-6) - 1)


@st.composite
def distributions(draw: st.DrawFn) -> list[int]:
    """Latency-like data: one or two log-normal modes, or uniform over a wide range."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    return [min(v, LATENCY_MAX_US) for v in draw_values(draw, rng)]


def draw_values(draw: st.DrawFn, rng: random.Random) -> list[int]:
    n = draw(st.integers(1, 300) | st.integers(1000, 4000))
    kind = draw(st.sampled_from(["lognormal", "bimodal", "uniform", "few"]))
    mu = draw(st.floats(math.log(50), math.log(5_000_000)))
    sigma = draw(st.floats(0.01, 2.5))
    if kind == "lognormal":
        return [max(1, round(rng.lognormvariate(mu, sigma))) for _ in range(n)]
    if kind == "bimodal":
        return [
            max(1, round(rng.lognormvariate(mu + (3 if rng.random() < 0.1 else 0), sigma / 3)))
            for _ in range(n)
        ]
    if kind == "uniform":
        top = draw(st.integers(2, 10**9))
        return [rng.randint(1, top) for _ in range(n)]
    return [rng.choice([7, 1500, 1501, 20_000]) for _ in range(n)]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(distributions())
def test_percentiles_of_merged_values_are_within_the_stated_bound(raw: list[int]) -> None:
    encoded = encode_histogram(histogram_of(raw))
    assert encoded is not None
    assert len(encoded.values) <= 150
    assert encoded.values == sorted(set(encoded.values))  # distinct and increasing
    assert sum(encoded.counts) == len(raw)
    assert all(isinstance(c, int) and c > 0 for c in encoded.counts)
    eps = encoded.max_relative_error
    assert eps <= a_priori_bound(min(raw), max(raw))
    if len(set(raw)) <= 150:
        assert eps <= HDR_BUCKET  # nothing merged: HDR's own resolution only
    event("merged" if eps > HDR_BUCKET else "not merged")
    exact = sorted(raw)
    merged = np.repeat(np.array(encoded.values), encoded.counts)
    for p in (0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 100):
        truth = exact[max(1, math.ceil(p / 100 * len(exact))) - 1]
        estimate = nearest_rank(encoded.values, encoded.counts, p)
        assert abs(estimate - truth) <= eps * truth + 1e-9
        # Interpolating percentiles are convex combinations of order statistics: same bound.
        truth_linear = float(np.percentile(exact, p))
        assert abs(float(np.percentile(merged, p)) - truth_linear) <= eps * truth_linear + 1e-6
    # Count-weighted representatives keep the sum (hence CloudWatch's Average) close.
    total = float(np.dot(encoded.values, encoded.counts))
    assert abs(total - sum(raw)) <= HDR_BUCKET * sum(raw) + 0.5 * len(raw)


def test_many_distinct_values_are_merged_to_150() -> None:
    rng = random.Random(1)
    raw = [rng.randint(1_000, 10_000_000) for _ in range(20_000)]  # a factor of 10,000
    encoded = encode_histogram(histogram_of(raw), scale=1000.0)
    assert encoded is not None
    assert 100 < len(encoded.values) <= 150
    assert sum(encoded.counts) == 20_000
    assert 0.001 <= encoded.max_relative_error <= a_priori_bound(1_000, 10_000_000)
    assert encoded.max_relative_error < 0.07
    # Scaled to milliseconds, with sub-millisecond digits kept.
    eps = encoded.max_relative_error
    assert encoded.values[0] == pytest.approx(min(raw) / 1000, rel=eps)
    assert encoded.values[-1] == pytest.approx(max(raw) / 1000, rel=eps)
    assert any(v != round(v) for v in encoded.values)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, LATENCY_MAX_US), min_size=1, max_size=400))
def test_recorded_buckets_agree_with_hdrh(raw: list[int]) -> None:
    histogram = histogram_of(raw)
    low, high, counts = recorded_buckets(histogram)
    assert int(counts.sum()) == histogram.count == len(raw)
    assert np.all(low[1:] > high[:-1])  # disjoint, in order
    for lo, hi in zip(low.tolist(), high.tolist(), strict=True):
        assert histogram.hdr.get_lowest_equivalent_value(lo) == lo
        assert histogram.hdr.get_highest_equivalent_value(lo) == hi
    for value in raw:
        i = int(np.searchsorted(low, value, side="right")) - 1
        assert low[i] <= value <= high[i]


def test_small_histograms_keep_every_bucket_and_empty_ones_give_nothing() -> None:
    assert encode_histogram(Histogram(LATENCY_MAX_US)) is None
    encoded = encode_histogram(histogram_of([250_000, 250_000, 251_000, 1_000]), scale=1000.0)
    assert encoded is not None
    assert encoded.values == pytest.approx([1.0, 250.0, 251.0], rel=HDR_BUCKET)
    assert encoded.counts == [1, 2, 1]
    beyond = histogram_of([5, 2 * LATENCY_MAX_US])  # out of range: counted apart, not sent
    assert beyond.out_of_range == 1
    assert encode_histogram(beyond) == Encoded(values=[5.0], counts=[1], max_relative_error=0.0)
    with pytest.raises(ValueError):
        encode_buckets(np.array([1]), np.array([1]), np.array([1]), max_values=0)


# --- chunking -------------------------------------------------------------------------------


def big_datum(i: int) -> dict[str, Any]:
    return {
        "MetricName": f"Metric{i % 7}",
        "Dimensions": [{"Name": f"Dim{d}", "Value": f"välue/{d} & more"} for d in range(30)],
        "Timestamp": datetime(2025, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        "Unit": "Milliseconds",
        "StorageResolution": 1,
        "Values": [1234.567 + k / 1000 + i * 1e-9 for k in range(150)],
        "Counts": [float(k + 1_000_000) for k in range(150)],
    }


def test_chunks_hold_at_most_1000_data_in_order() -> None:
    data = [{"MetricName": "Requests", "Value": float(i), "Unit": "Count"} for i in range(2500)]
    chunks = list(chunk_metric_data(data, "LLM/LoadTest"))
    assert [len(c) for c in chunks] == [1000, 1000, 500]
    assert [d for c in chunks for d in c] == data


def test_chunks_stay_under_1_mb_and_the_estimate_is_an_upper_bound() -> None:
    namespace = "LLM/LoadTest"
    data = [big_datum(i) for i in range(300)]
    one = serialized_size(namespace, [data[0]])
    assert estimate_call_overhead(namespace) + estimate_datum_bytes(data[0]) >= one
    chunks = list(chunk_metric_data(data, namespace))
    assert len(chunks) > 1  # 300 such data are more than 1 MB
    assert [d for c in chunks for d in c] == data
    for chunk in chunks:
        estimate = estimate_call_overhead(namespace) + sum(map(estimate_datum_bytes, chunk))
        actual = serialized_size(namespace, chunk)
        assert actual <= estimate <= MAX_CALL_BYTES
        assert estimate < 1.5 * actual  # conservative, not wasteful


# --- the sink -------------------------------------------------------------------------------


async def test_add_never_waits_for_a_dead_endpoint(aws_env: dict[str, str]) -> None:
    sink = CloudWatchSink(
        scenario="dead",
        interval_s=0.2,
        region_name=REGION,
        endpoint_url=f"http://127.0.0.1:{closed_port()}",
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        retry=RetryPolicy(max_attempts=1000, base_delay_s=0.05, max_delay_s=0.2, call_timeout_s=1),
        stop_timeout_s=1.0,
    )
    samples = [s for s in make_mixed_samples() if not s.warmup]
    await sink.start()
    sink.add(samples[0])
    # Until the sender is failing and backing off (polled: a busy machine takes longer to
    # make the client and fail its first call than a quiet one).
    deadline = time.monotonic() + 30
    while sink.failed_calls == 0:
        assert time.monotonic() < deadline, "no call failed against the dead endpoint"
        await asyncio.sleep(0.05)
    began = time.perf_counter()
    for i in range(10_000):
        sink.add(samples[i % len(samples)])
    adding = time.perf_counter() - began
    began = time.perf_counter()
    await sink.stop()
    stopping = time.perf_counter() - began
    # Upper bounds that say "did not wait", wide enough for a busy machine: adding takes about
    # 50 µs a sample on a quiet one (0.5 s here), while waiting on the endpoint even once a
    # sample (a backoff is 50-200 ms) would take minutes; stopping is bounded by
    # stop_timeout_s (1 s), while giving up the retries one by one (1,000 attempts) would not be.
    assert adding < 10
    assert stopping < 1.0 + 5
    assert sink.published_data == 0
    assert sink.failed_calls > 1
    assert sink.dropped_data == sink.produced_data > 0


class FakeClient:
    """put_metric_data that throttles the first `throttles` calls, then accepts (or hangs)."""

    def __init__(self, throttles: int, hang: bool = False) -> None:
        self.throttles = throttles
        self.hang = hang
        self.calls = 0
        self.accepted: list[dict[str, Any]] = []

    async def put_metric_data(self, **params: Any) -> None:
        self.calls += 1
        if self.calls <= self.throttles:
            raise ClientError(
                {
                    "Error": {"Code": "Throttling", "Message": "Rate exceeded"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                "PutMetricData",
            )
        if self.hang:
            await asyncio.Event().wait()
        self.accepted.extend(params["MetricData"])

    async def __aenter__(self) -> FakeClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class FakeSession:
    def __init__(self, client: FakeClient) -> None:
        self._client = client

    def client(self, *args: object, **kwargs: object) -> FakeClient:
        return self._client


async def test_throttling_is_retried_with_backoff() -> None:
    fake = FakeClient(throttles=3)
    sink = CloudWatchSink(
        scenario="throttled",
        interval_s=60,
        session=FakeSession(fake),
        retry=RetryPolicy(max_attempts=5, base_delay_s=0.01, max_delay_s=0.02),
        rng=random.Random(0),
    )
    await sink.start()
    for sample in make_mixed_samples()[15:]:
        sink.add(sample)
    await sink.stop()  # the only interval is the last one
    assert sink.failed_calls == 3
    assert sink.published_data == len(fake.accepted) == sink.produced_data > 0
    assert sink.dropped_data == 0
    assert {d["MetricName"] for d in fake.accepted} >= set(COUNTERS)


async def test_give_up_after_max_attempts_and_on_overflow() -> None:
    fake = FakeClient(throttles=10**6)
    sink = CloudWatchSink(
        scenario="overflow",
        interval_s=60,
        session=FakeSession(fake),
        retry=RetryPolicy(max_attempts=2, base_delay_s=0.001, max_delay_s=0.001),
        max_queued_data=10,
    )
    await sink.start()
    for sample in make_mixed_samples()[15:]:
        sink.add(sample)
    await sink.stop()
    assert sink.failed_calls == fake.calls > 0
    assert fake.calls % 2 == 0  # every batch tried exactly twice
    assert sink.published_data == 0
    assert sink.dropped_data == sink.produced_data
    # At most 10 data were queued at a time, so some were dropped without ever being tried.
    assert sink.produced_data > 10 * fake.calls // 2


async def test_stop_is_bounded_when_a_call_hangs() -> None:
    fake = FakeClient(throttles=0, hang=True)
    sink = CloudWatchSink(
        scenario="hang",
        interval_s=60,
        session=FakeSession(fake),
        retry=RetryPolicy(call_timeout_s=30),
        stop_timeout_s=0.3,
    )
    await sink.start()
    sink.add(make_mixed_samples()[20])
    began = time.perf_counter()
    await sink.stop()
    # Bounded by stop_timeout_s (0.3 s), not by the hung call's own timeout (30 s): the margin
    # is for a busy machine.
    assert time.perf_counter() - began < 0.3 + 5
    assert sink.dropped_data == sink.produced_data > 0


def test_bad_configuration_is_refused() -> None:
    session = FakeSession(FakeClient(0))
    with pytest.raises(ValueError, match="storage_resolution"):
        CloudWatchSink(scenario="x", storage_resolution=5, session=session)
    with pytest.raises(ValueError, match="reserved"):
        CloudWatchSink(scenario="x", dimensions={"Model": "m"}, session=session)
    with pytest.raises(ValueError, match="namespace"):
        CloudWatchSink(scenario="x", namespace="AWS/Bedrock", session=session)
    with pytest.raises(ValueError, match="extra dimensions"):
        CloudWatchSink(scenario="x", dimensions={f"D{i}": "v" for i in range(29)}, session=session)


def client_error(code: str, status: int) -> ClientError:
    response: Any = {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "PutMetricData")


def test_what_is_retried() -> None:
    assert is_retryable(client_error("Throttling", 400))
    assert is_retryable(client_error("TooManyRequestsException", 429))
    assert is_retryable(client_error("InternalFailure", 500))
    assert is_retryable(client_error("ServiceUnavailable", 503))
    assert is_retryable(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"))
    assert is_retryable(TimeoutError())
    assert not is_retryable(client_error("InvalidParameterValue", 400))
    assert not is_retryable(client_error("AccessDenied", 403))
    assert not is_retryable(NoCredentialsError())


def test_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(base_delay_s=0.5, max_delay_s=2.0)
    rng = random.Random(0)
    delays = [[policy.delay_s(attempt, rng) for _ in range(200)] for attempt in (1, 2, 3, 6)]
    assert max(delays[0]) <= 0.5 and max(delays[1]) <= 1.0 and max(delays[3]) <= 2.0
    assert max(delays[3]) > 1.5 and min(delays[3]) < 0.5  # spread over the whole range
