"""`--cloudwatch` on a real emulated run, published to moto: what CloudWatch holds adds up to
the report's counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
from rich.console import Console

from loadgen.run import RunOptions, run_async
from tests.conftest import ScenarioFactory


def _sum(client: object, metric: str, model: str) -> float:
    now = datetime.now(UTC)
    points = client.get_metric_statistics(  # type: ignore[attr-defined]
        Namespace="LLM/LoadTest",
        MetricName=metric,
        Dimensions=[{"Name": "Model", "Value": model}, {"Name": "Scenario", "Value": "test"}],
        StartTime=now - timedelta(hours=1),
        EndTime=now + timedelta(hours=1),
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    return float(sum(point["Sum"] for point in points))


async def test_published_counts_equal_the_report(
    moto_url: str, aws_env: dict[str, str], make_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    scenario = make_scenario(
        models=["fast-model", "throttle-model"],
        emulator={
            "profiles": {
                "fast-model": {"ttft_ms": 10, "itl_ms": 2, "output_tokens": 5},
                "throttle-model": {"ttft_ms": 10, "faults": {"throttle": 0.5}},
            }
        },
        load={"rate": 40, "arrival": "constant", "requests": 60},
        cloudwatch={"enabled": True, "interval": "1s", "endpoint_url": moto_url},
    )
    options = RunOptions(out_dir=tmp_path, emulate=True, quiet=True, console=Console(quiet=True))
    report = (await run_async(scenario, options)).report
    assert report["run"]["cloudwatch"]["published_data"] > 0
    assert report["run"]["cloudwatch"]["dropped_data"] == 0
    client = boto3.client("cloudwatch", endpoint_url=moto_url, region_name="us-east-1")
    try:
        for model, data in report["models"].items():
            requests = data["requests"]
            assert _sum(client, "Requests", model) == requests["sent"]
            assert _sum(client, "Successes", model) == requests["ok"]
            assert _sum(client, "Throttles", model) == requests["errors"]["throttled"]
            assert _sum(client, "OutputTokens", model) == data["tokens"]["output"]["total"]
        assert report["models"]["throttle-model"]["requests"]["errors"]["throttled"] > 0
    finally:
        client.close()
