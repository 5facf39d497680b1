"""The CloudWatch sink against moto in server mode: what CloudWatch holds is what the sink was
fed. The encoding, chunking and retries on their own: tests/unit/cloudwatch/test_cloudwatch.py."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from loadgen.cloudwatch.sink import COUNTERS, CloudWatchSink
from loadgen.core.sample import ErrorClass, Sample
from tests.factories import make_mixed_samples

REGION = "us-east-1"
KEY_ID = "testing"
SECRET = "testing"


def expected_counts(samples: list[Sample], model: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    names = {
        ErrorClass.THROTTLED: "Throttles",
        ErrorClass.CLIENT: "ClientErrors",
        ErrorClass.SERVER: "ServerErrors",
        ErrorClass.TIMEOUT: "Timeouts",
        ErrorClass.CONNECTION: "ConnectionErrors",
        ErrorClass.PROTOCOL: "ProtocolErrors",
        ErrorClass.DROPPED: "Dropped",
    }
    for s in samples:
        if s.warmup or s.model != model:
            continue
        if s.error is ErrorClass.CANCELLED:  # the run's doing: counted in Cancelled only
            counts["Cancelled"] += 1
            continue
        counts["Requests"] += s.error is not ErrorClass.DROPPED
        counts["Successes"] += s.ok
        counts["Errors"] += not s.ok
        if s.error is not None:
            counts[names[s.error]] += 1
        if s.error is not ErrorClass.DROPPED:
            counts["InputTokens"] += s.input_tokens or 0
            counts["OutputTokens"] += s.output_tokens or 0
            counts["ScheduleLag"] += 1
        if s.ok:
            counts["TTFT"] += 1
            counts["ITL"] += len(s.itl_us)
    return counts


def statistics(
    client: Any, namespace: str, name: str, dimensions: list[dict[str, str]]
) -> dict[str, float]:
    now = datetime.now(UTC)
    points = client.get_metric_statistics(
        Namespace=namespace,
        MetricName=name,
        Dimensions=dimensions,
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(hours=1),
        Period=3600,
        Statistics=["Sum", "SampleCount", "Maximum"],
    )["Datapoints"]
    return {
        "Sum": sum(p["Sum"] for p in points),
        "SampleCount": sum(p["SampleCount"] for p in points),
        "Maximum": max((p["Maximum"] for p in points), default=0.0),
    }


async def test_sink_publishes_what_it_was_fed(moto_url: str, aws_env: dict[str, str]) -> None:
    namespace = "LLM/LoadTest/fed"
    sink = CloudWatchSink(
        scenario="smoke",
        namespace=namespace,
        dimensions={"Team": "perf"},
        interval_s=0.5,
        storage_resolution=1,
        region_name=REGION,
        endpoint_url=moto_url,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    samples = make_mixed_samples()
    await sink.start()
    for i in range(0, len(samples), 100):  # spread over about three intervals
        for sample in samples[i : i + 100]:
            sink.add(sample)
        await asyncio.sleep(0.3)
    await sink.stop()
    assert sink.failed_calls == 0 and sink.dropped_data == 0
    assert sink.published_data == sink.produced_data > 0
    # Published per interval (calls may merge intervals when CloudWatch answers slowly).
    assert sink.intervals_with_data >= 3
    assert sink.published_calls >= 1

    client = boto3.client(
        "cloudwatch",
        region_name=REGION,
        endpoint_url=moto_url,
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
    )
    try:
        totals: Counter[str] = Counter()
        for model in ("nova-lite", "nova-pro", "claude-haiku"):
            dims = [
                {"Name": "Model", "Value": model},
                {"Name": "Scenario", "Value": "smoke"},
                {"Name": "Team", "Value": "perf"},
            ]
            want = expected_counts(samples, model)
            for name in (*COUNTERS, "InputTokens", "OutputTokens"):
                got_sum = statistics(client, namespace, name, dims)["Sum"]
                assert got_sum == want[name], name
                totals[name] += int(got_sum)
            for name in ("TTFT", "ITL", "ScheduleLag"):
                got = statistics(client, namespace, name, dims)["SampleCount"]
                assert got == want[name], name
            assert want["Throttles"] > 0 and want["Dropped"] > 0 and want["Timeouts"] > 0
            ok = [s for s in samples if s.model == model and s.ok and not s.warmup]
            cost = statistics(client, namespace, "CostUSD", dims)["Sum"]
            assert cost == pytest.approx(sum(s.cost_usd or 0 for s in ok))
            # Milliseconds, from the service time, within HDR's resolution.
            ttft = statistics(client, namespace, "TTFT", dims)
            exact = [(s.ttft_service_us or 0) / 1000 for s in ok]
            assert ttft["Sum"] == pytest.approx(sum(exact), rel=1e-3)
            assert ttft["Maximum"] == pytest.approx(max(exact), rel=1e-3)
        # Over the whole run: every measured sample is counted once, dropped ones as errors.
        measured = [s for s in samples if not s.warmup]
        # Cancelled ones (the run stopped them) count in Cancelled only.
        cancelled = sum(s.error is ErrorClass.CANCELLED for s in measured)
        assert totals["Cancelled"] == cancelled > 0
        assert totals["Successes"] + totals["Errors"] + cancelled == len(measured)
        assert totals["Requests"] + totals["Dropped"] + cancelled == len(measured)
        assert totals["Errors"] == sum(totals[n] for n in COUNTERS[3:] if n != "Cancelled")

        pages = client.get_paginator("list_metrics").paginate(Namespace=namespace)
        listed = [metric for page in pages for metric in page["Metrics"]]
        names = {m["MetricName"] for m in listed}
        assert {*COUNTERS, "TTFT", "TTLT", "ITL", "TPOT", "OutputTokensPerSecond"} <= names
        for metric in listed:
            found = {d["Name"]: d["Value"] for d in metric["Dimensions"]}
            assert found.keys() == {"Model", "Scenario", "Team"}
            assert found["Scenario"] == "smoke" and found["Team"] == "perf"
    finally:
        client.close()
