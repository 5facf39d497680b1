"""CloudWatch: per-model metrics published every interval while the run goes on.

`add()` only folds a Sample into the current interval's aggregates (counters and HDR
histograms); it never awaits and never does I/O, so the runner is never slowed by CloudWatch.
Two background tasks do the rest: a ticker closes each interval at its boundary and turns its
aggregates into MetricData on a bounded queue; a sender drains the queue in PutMetricData calls,
backing off with jitter when CloudWatch throttles or fails. The aggregates and the metric
data they become are loadgen/record/interval_metrics.py's, shared with the EMF writer.
docs/cloudwatch.md lists the metrics.
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

from loadgen.cloudwatch.values import MAX_DATA_PER_CALL, chunk_metric_data
from loadgen.core.sample import Sample
from loadgen.record.interval_metrics import COUNTERS, IntervalMetrics, tick_intervals

log = logging.getLogger(__name__)

DEFAULT_NAMESPACE = "LLM/LoadTest"
MAX_DIMENSIONS = 30  # per metric, CloudWatch's limit
RESERVED_DIMENSIONS = ("Model", "Scenario")
__all__ = ["COUNTERS", "CloudWatchSink", "RetryPolicy", "is_retryable"]

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
        self._metrics = IntervalMetrics(
            scenario=scenario, dimensions=extra, storage_resolution=storage_resolution
        )
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
        self.intervals_with_data = 0  # closed intervals that had at least one sample
        self.last_error: str | None = None  # the last failure, for the report (no secrets)

    # --- the runner's side ------------------------------------------------------------------

    def add(self, sample: Sample) -> None:
        self._metrics.add(sample)

    @property
    def out_of_range(self) -> int:
        return self._metrics.out_of_range

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
        await tick_intervals(self.interval_s, self._stopping, self._close_interval)

    async def _close_interval(self) -> None:
        timestamp = datetime.now(UTC)  # the interval's end, wall clock
        models = self._metrics.swap()
        self.intervals_with_data += bool(models)
        for model, aggregates in models.items():
            # Each model's data is queued as soon as it is made: the sender starts on them
            # while the next model's histograms are encoded.
            self._enqueue(await self._metrics.model_data(model, aggregates, timestamp))
            self._wake.set()

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
                    self.last_error = describe_error(error)
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


def describe_error(error: BaseException) -> str:
    """What went wrong, in a line fit for a report: the error's class and code, no secrets."""
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
        return f"{type(error).__name__}: {code} (HTTP {status})"
    return type(error).__name__
