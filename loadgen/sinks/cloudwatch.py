"""CloudWatch: per-model metrics published every interval while the run goes on.

`add()` only folds a Sample into the current interval's aggregates (counters and HDR
histograms); it never awaits and never does I/O, so the runner is never slowed by CloudWatch.
Two background tasks do the rest: a ticker closes each interval at its boundary and turns its
aggregates into MetricData on a bounded queue; a sender drains the queue in PutMetricData calls,
backing off with jitter when CloudWatch throttles or fails. docs/cloudwatch.md lists the metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aioboto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from loadgen.cloudwatch_values import MAX_DATA_PER_CALL, chunk_metric_data, encode_histogram
from loadgen.histogram import LATENCY_MAX_US, Histogram
from loadgen.sample import ErrorClass, Sample

log = logging.getLogger(__name__)

DEFAULT_NAMESPACE = "LLM/LoadTest"
MAX_DIMENSIONS = 30  # per metric, CloudWatch's limit
RESERVED_DIMENSIONS = ("Model", "Scenario")

COUNTERS = (
    "Requests",
    "Successes",
    "Errors",
    "Throttles",
    "ClientErrors",
    "ServerErrors",
    "Timeouts",
    "ConnectionErrors",
    "ProtocolErrors",
    "Dropped",
)
ERROR_COUNTERS = {
    ErrorClass.THROTTLED: "Throttles",
    ErrorClass.CLIENT: "ClientErrors",
    ErrorClass.SERVER: "ServerErrors",
    ErrorClass.TIMEOUT: "Timeouts",
    ErrorClass.CONNECTION: "ConnectionErrors",
    ErrorClass.PROTOCOL: "ProtocolErrors",
    ErrorClass.DROPPED: "Dropped",
}
# Tokens per second are recorded in thousandths, as integers (HDR truncates floats).
TOKENS_PER_S_SCALE = 1000
TOKENS_PER_S_MAX = 10_000_000 * TOKENS_PER_S_SCALE
# name: (unit, divisor from the recorded integer to the unit, highest recordable value)
DISTRIBUTIONS: dict[str, tuple[str, float, int]] = {
    "TTFT": ("Milliseconds", 1000.0, LATENCY_MAX_US),
    "TTLT": ("Milliseconds", 1000.0, LATENCY_MAX_US),
    "ITL": ("Milliseconds", 1000.0, LATENCY_MAX_US),
    "TPOT": ("Milliseconds", 1000.0, LATENCY_MAX_US),
    "ScheduleLag": ("Milliseconds", 1000.0, LATENCY_MAX_US),
    "OutputTokensPerSecond": ("Count/Second", float(TOKENS_PER_S_SCALE), TOKENS_PER_S_MAX),
}
# What CloudWatch answers when it throttles PutMetricData (HTTP 400 "Throttling" in the query
# protocol), and its kin from other endpoints and proxies.
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"}
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard the sender tries one PutMetricData call before it drops that call's data.

    Delays are "full jitter": uniform in [0, min(max_delay_s, base_delay_s * 2**(attempt-1))],
    so that several load generators throttled at once do not retry in step.
    """

    max_attempts: int = 5
    base_delay_s: float = 0.25
    max_delay_s: float = 8.0
    call_timeout_s: float = 10.0  # one attempt, connection included

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))


class _ModelInterval:
    """One model's aggregates over one interval."""

    __slots__ = ("cost_usd", "counters", "histograms", "input_tokens", "output_tokens", "priced")

    def __init__(self) -> None:
        self.counters = dict.fromkeys(COUNTERS, 0)
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd = 0.0
        self.priced = False
        self.histograms: dict[str, Histogram] = {}

    def record(self, name: str, value: int) -> None:
        histogram = self.histograms.get(name)
        if histogram is None:
            # Created on first use: an interval with no successes needs no latency histograms.
            histogram = self.histograms[name] = Histogram(DISTRIBUTIONS[name][2])
        histogram.record(value)

    def add(self, sample: Sample) -> None:
        counters = self.counters
        if sample.error is not None:
            counters["Errors"] += 1
            counters[ERROR_COUNTERS[sample.error]] += 1
            if sample.error is ErrorClass.DROPPED:
                return  # never sent: no request, no latency, no tokens
        else:
            counters["Successes"] += 1
        counters["Requests"] += 1
        self.record("ScheduleLag", sample.schedule_lag_us)
        if sample.input_tokens is not None:
            self.input_tokens += sample.input_tokens
        if sample.output_tokens is not None:
            self.output_tokens += sample.output_tokens
        if sample.cost_usd is not None:
            self.cost_usd += sample.cost_usd
            self.priced = True
        if sample.error is None:
            self._add_latencies(sample)

    def _add_latencies(self, sample: Sample) -> None:
        # Successes only, as in the report: a burst of fast 429s must not flatter latency.
        for name, value in (
            ("TTFT", sample.ttft_service_us),
            ("TTLT", sample.ttlt_service_us),
            ("TPOT", sample.tpot_us),
        ):
            if value is not None:
                self.record(name, value)
        for gap in sample.itl_us:
            self.record("ITL", gap)
        if sample.first_token_us is not None and sample.end_us is not None:
            decode_us = sample.end_us - sample.first_token_us
            if decode_us > 0 and sample.output_tokens:
                per_s = sample.output_tokens * 1_000_000 * TOKENS_PER_S_SCALE // decode_us
                self.record("OutputTokensPerSecond", per_s)


class CloudWatchSink:
    """Publishes per-model metrics to CloudWatch every `interval_s`, from its own tasks.

    Counters for the report: `produced_data` (data made from closed intervals), `published_data`
    (data CloudWatch accepted; produced = published + dropped once stopped), `published_calls`,
    `failed_calls` (PutMetricData attempts that failed, retried ones included), `dropped_data`
    (data given up: the queue overflowed, a call failed for good, or stop() ran out of time) and
    `out_of_range` (values outside the histograms' range, not published).
    """

    def __init__(
        self,
        *,
        scenario: str,
        namespace: str = DEFAULT_NAMESPACE,
        dimensions: Mapping[str, str] | None = None,
        interval_s: float = 60.0,
        storage_resolution: int = 60,
        session: Any = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        profile_name: str | None = None,
        retry: RetryPolicy | None = None,
        max_queued_data: int = 50_000,
        stop_timeout_s: float = 10.0,
        rng: random.Random | None = None,
    ) -> None:
        if storage_resolution not in (1, 60):
            raise ValueError("storage_resolution must be 1 (high resolution) or 60")
        if not 0 < len(namespace) <= 255 or namespace.startswith("AWS/"):
            raise ValueError("namespace: 1-255 characters, not starting with AWS/ (reserved)")
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        extra = dict(dimensions or {})
        if clash := set(extra) & set(RESERVED_DIMENSIONS):
            raise ValueError(f"dimension names reserved by the sink: {sorted(clash)}")
        if len(extra) + len(RESERVED_DIMENSIONS) > MAX_DIMENSIONS:
            raise ValueError(
                f"at most {MAX_DIMENSIONS - len(RESERVED_DIMENSIONS)} extra dimensions"
            )
        for name, value in {"Scenario": scenario, **extra}.items():
            if not name or not str(value) or len(name) > 255 or len(str(value)) > 1024:
                raise ValueError(f"dimension {name!r}: name 1-255 and value 1-1024 characters")
        self.namespace = namespace
        self.scenario = scenario
        self.interval_s = interval_s
        self.storage_resolution = storage_resolution
        self.retry = retry or RetryPolicy()
        self.max_queued_data = max_queued_data
        self.stop_timeout_s = stop_timeout_s
        self._extra = [{"Name": k, "Value": str(v)} for k, v in extra.items()]
        self._session = (
            session
            if session is not None
            else aioboto3.Session(
                aws_access_key_id=aws_access_key_id,
                aws_secret_access_key=aws_secret_access_key,
                aws_session_token=aws_session_token,
                region_name=region_name,
                profile_name=profile_name,
            )
        )
        self._region_name = region_name
        self._endpoint_url = endpoint_url
        self._rng = rng or random.Random()
        self._models: dict[str, _ModelInterval] = {}
        self._queue: deque[dict[str, Any]] = deque()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._closing = False
        self._in_flight = 0
        self._client: Any = None
        self._stack = contextlib.AsyncExitStack()
        self._ticker: asyncio.Task[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self.produced_data = 0
        self.published_data = 0
        self.published_calls = 0
        self.failed_calls = 0
        self.dropped_data = 0
        self.out_of_range = 0

    # --- the runner's side ------------------------------------------------------------------

    def add(self, sample: Sample) -> None:
        if sample.warmup:
            return
        aggregates = self._models.get(sample.model)
        if aggregates is None:
            aggregates = self._models[sample.model] = _ModelInterval()
        aggregates.add(sample)

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        # SDK retries off: the sender retries itself, with jitter and a bound, and counts each
        # failure; botocore's own retries would hide them and hold a call for longer.
        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=self.retry.call_timeout_s,
            read_timeout=self.retry.call_timeout_s,
        )
        self._client = await self._stack.enter_async_context(
            self._session.client(
                "cloudwatch",
                region_name=self._region_name,
                endpoint_url=self._endpoint_url,
                config=config,
            )
        )
        self._ticker = asyncio.create_task(self._tick(), name="cloudwatch-ticker")
        self._sender = asyncio.create_task(self._send_loop(), name="cloudwatch-sender")

    async def stop(self) -> None:
        """Publish the last (partial) interval, wait up to stop_timeout_s, close the client."""
        ticker, sender = self._ticker, self._sender
        if ticker is None or sender is None:
            return
        self._ticker = self._sender = None
        try:
            self._stopping.set()
            await ticker  # it closes the last, partial interval and returns
            self._closing = True
            self._wake.set()
            await asyncio.wait({sender}, timeout=self.stop_timeout_s)
        finally:
            # Also when stop() itself is cancelled or the ticker failed: no task or client is
            # left behind, and whatever was not published is counted.
            if not sender.done():
                sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sender
            elif not sender.cancelled() and (error := sender.exception()) is not None:
                log.error("CloudWatch sender failed: %r", error)
            lost = len(self._queue) + self._in_flight
            if lost:
                log.warning("CloudWatch: %d metric data not published before stopping", lost)
            self.dropped_data += lost
            self._queue.clear()
            self._in_flight = 0
            await self._stack.aclose()

    # --- intervals --------------------------------------------------------------------------

    async def _tick(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for k in itertools.count(1):
            # Absolute boundaries (start + k * interval), so lateness does not accumulate.
            boundary = start + k * self.interval_s
            # Woken early by stop(), never cancelled: a cancel could land while an interval is
            # half encoded, and lose it.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(boundary):
                    await self._stopping.wait()
            if self._stopping.is_set():
                await self._close_interval()
                return
            if loop.time() >= boundary + self.interval_s:
                continue  # a whole interval late: fold it into the next one
            await self._close_interval()

    async def _close_interval(self) -> None:
        # The swap is atomic (no await before it): a sample belongs to exactly one interval.
        models, self._models = self._models, {}
        timestamp = datetime.now(UTC)  # the interval's end, wall clock
        for model, aggregates in models.items():
            self._enqueue(await self._model_data(model, aggregates, timestamp))
            self._wake.set()

    async def _model_data(
        self, model: str, aggregates: _ModelInterval, timestamp: datetime
    ) -> list[dict[str, Any]]:
        dimensions = [
            # An empty dimension value would make CloudWatch reject the whole call.
            {"Name": "Model", "Value": model or "unknown"},
            {"Name": "Scenario", "Value": self.scenario},
            *self._extra,
        ]

        def datum(name: str, unit: str, **fields: Any) -> dict[str, Any]:
            return {
                "MetricName": name,
                "Dimensions": dimensions,
                "Timestamp": timestamp,
                "Unit": unit,
                "StorageResolution": self.storage_resolution,
                **fields,
            }

        # Zero counters are sent too: an interval with no throttles should read 0, not a gap.
        data = [datum(name, "Count", Value=float(aggregates.counters[name])) for name in COUNTERS]
        data.append(datum("InputTokens", "Count", Value=float(aggregates.input_tokens)))
        data.append(datum("OutputTokens", "Count", Value=float(aggregates.output_tokens)))
        if aggregates.priced:
            data.append(datum("CostUSD", "None", Value=aggregates.cost_usd))
        for name, histogram in aggregates.histograms.items():
            # Encoding takes up to a couple of milliseconds per histogram: yield between them
            # so that the runner's timers are not held up for all models' at once.
            await asyncio.sleep(0)
            unit, scale, _ = DISTRIBUTIONS[name]
            self.out_of_range += histogram.out_of_range
            encoded = encode_histogram(histogram, scale=scale)
            if encoded is not None:
                data.append(datum(name, unit, Values=encoded.values, Counts=encoded.counts))
        return data

    def _enqueue(self, data: list[dict[str, Any]]) -> None:
        queue = self._queue
        self.produced_data += len(data)
        for item in data:
            if len(queue) >= self.max_queued_data:
                queue.popleft()  # the oldest goes: what is happening now matters most
                self.dropped_data += 1
            queue.append(item)

    # --- publishing -------------------------------------------------------------------------

    async def _send_loop(self) -> None:
        queue = self._queue
        while True:
            if not queue:
                if self._closing:
                    return
                self._wake.clear()
                await self._wake.wait()
                continue
            head = list(itertools.islice(queue, MAX_DATA_PER_CALL))
            batch = next(chunk_metric_data(head, self.namespace))
            for _ in batch:
                queue.popleft()
            self._in_flight = len(batch)
            await self._publish(batch)
            self._in_flight = 0

    async def _publish(self, batch: list[Mapping[str, Any]]) -> None:
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                async with asyncio.timeout(self.retry.call_timeout_s):
                    await self._client.put_metric_data(Namespace=self.namespace, MetricData=batch)
            except Exception as error:  # every failure is counted; none may kill the sender
                self.failed_calls += 1
                if not is_retryable(error) or attempt == self.retry.max_attempts:
                    log.warning(
                        "CloudWatch PutMetricData failed (attempt %d), %d data dropped: %r",
                        attempt,
                        len(batch),
                        error,
                    )
                    self.dropped_data += len(batch)
                    return
                await asyncio.sleep(self.retry.delay_s(attempt, self._rng))
            else:
                self.published_data += len(batch)
                self.published_calls += 1
                return


def is_retryable(error: BaseException) -> bool:
    """Throttling, 5xx, timeouts and connection trouble pass; a rejected request will not."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in THROTTLING_CODES or status == 429 or status >= 500
    return isinstance(error, BotoConnectionError | HTTPClientError | TimeoutError | OSError)
