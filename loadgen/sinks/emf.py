"""CloudWatch Embedded Metric Format: the CloudWatch sink's metrics as JSON lines.

For Lambda, ECS or the CloudWatch agent, which turn such log lines into metrics. The figures
come from the same code as the CloudWatch sink's (loadgen/record/interval_metrics.py), per interval
and at the end; one line per model and interval:

    {"_aws": {"Timestamp": 1700000000000, "CloudWatchMetrics": [{"Namespace": "LLM/LoadTest",
       "Dimensions": [["Model", "Scenario"]], "Metrics": [{"Name": "TTFT",
       "Unit": "Milliseconds", "StorageResolution": 60}, ...]}]},
     "Model": "us.amazon.nova-lite-v1:0", "Scenario": "demo", "Requests": 12,
     "TTFT": {"Values": [201.3, 230.9], "Counts": [7, 5]}, ...}

EMF allows at most 100 values per metric (PutMetricData allows 150), so distributions are
merged to 100 values here, with the same error bound (docs/cloudwatch.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from loadgen.core.closed_pipe import silence_stdout
from loadgen.core.sample import Sample
from loadgen.record.interval_metrics import METRIC_UNITS, IntervalMetrics, tick_intervals

MAX_EMF_VALUES = 100


class EmfSink:
    """Writes one EMF line per model at every interval and at stop(); `-` is stdout."""

    def __init__(
        self,
        target: str | Path,
        *,
        scenario: str,
        namespace: str = "LLM/LoadTest",
        dimensions: Mapping[str, str] | None = None,
        interval_s: float = 60.0,
        storage_resolution: int = 60,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        extra = dict(dimensions or {})
        if clash := sorted({"Model", "Scenario", *METRIC_UNITS} & set(extra)):
            raise ValueError(f"EMF dimension names clash with metric or dimension: {clash}")
        self.target = target
        self.namespace = namespace
        self.interval_s = interval_s
        self.storage_resolution = storage_resolution
        self.lines = 0
        self._metrics = IntervalMetrics(
            scenario=scenario,
            dimensions=extra,
            storage_resolution=storage_resolution,
            max_values=MAX_EMF_VALUES,
        )
        self._stopping = asyncio.Event()
        self._ticker: asyncio.Task[None] | None = None
        self._out: TextIO | None = None
        self._on_failure = on_failure
        self.failure: str | None = None  # why EMF lines stopped being written, if they did

    def add(self, sample: Sample) -> None:
        self._metrics.add(sample)

    async def start(self) -> None:
        if str(self.target) == "-":
            self._out = sys.stdout
        else:
            self._out = Path(self.target).open("w", encoding="utf-8")  # noqa: SIM115 - closed in stop()
        self._ticker = asyncio.create_task(
            tick_intervals(self.interval_s, self._stopping, self._write_interval),
            name="emf-ticker",
        )

    async def stop(self) -> None:
        """Write the last (partial) interval and close the file."""
        ticker, self._ticker = self._ticker, None
        if ticker is None:
            return
        try:
            self._stopping.set()
            await ticker
        finally:
            if self._out is not None and self._out is not sys.stdout:
                try:
                    self._out.close()
                except OSError as exc:
                    self._failed(exc)
            self._out = None

    async def _write_interval(self) -> None:
        timestamp = datetime.now(UTC)
        documents = await self._metrics.close(timestamp)
        if self._out is None:  # a write failed before: the interval is folded, not written
            return
        try:
            for data in documents:
                self._out.write(json.dumps(emf_document(data, self.namespace, timestamp)) + "\n")
                self.lines += 1
            self._out.flush()
        except OSError as exc:  # a full disk, or a reader that closed its end of the pipe
            self._failed(exc)

    def _failed(self, exc: OSError) -> None:
        where = "stdout" if self._out is sys.stdout else str(self.target)
        self.failure = f"EMF lines could not be written to {where} ({exc.strerror or exc})"
        if self._out is sys.stdout:
            silence_stdout()
        else:
            with contextlib.suppress(OSError):
                assert self._out is not None
                self._out.close()
        self._out = None
        if self._on_failure is not None:
            self._on_failure(self.failure)


def emf_document(data: list[dict[str, Any]], namespace: str, timestamp: datetime) -> dict[str, Any]:
    """One model's MetricDatum dicts (all with the same dimensions) as one EMF document."""
    dimensions = data[0]["Dimensions"]
    document: dict[str, Any] = {
        "_aws": {
            "Timestamp": int(timestamp.timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [[d["Name"] for d in dimensions]],
                    "Metrics": [
                        {
                            "Name": datum["MetricName"],
                            "Unit": datum["Unit"],
                            "StorageResolution": datum["StorageResolution"],
                        }
                        for datum in data
                    ],
                }
            ],
        },
        **{d["Name"]: d["Value"] for d in dimensions},
    }
    for datum in data:
        if "Values" in datum:
            document[datum["MetricName"]] = {"Values": datum["Values"], "Counts": datum["Counts"]}
        else:
            document[datum["MetricName"]] = datum["Value"]
    return document
