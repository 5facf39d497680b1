"""Thresholds as CloudWatch alarms: the mapping, the refusals, and `loadgen alarms` in moto."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
import yaml
from click.testing import CliRunner

from loadgen.cli import main
from loadgen.cloudwatch.alarms import alarm_period, alarm_requests
from loadgen.config.thresholds import parse_check

TOPIC = "arn:aws:sns:us-east-1:123456789012:loadgen-alarms"
DIMS = [{"Name": "Model", "Value": "m1"}, {"Name": "Scenario", "Value": "s"}]


def one(text: str, **kwargs: object) -> dict[str, object]:
    requests, refused = alarm_requests([parse_check(text)], scenario="s", models=["m1"], **kwargs)  # type: ignore[arg-type]
    assert refused == [] and len(requests) == 1
    return requests[0]


def test_percentiles_and_statistics_alarm_on_the_breach() -> None:
    alarm = one("ttft.p99 < 800ms", topic_arn=TOPIC)
    assert alarm["MetricName"] == "TTFT" and alarm["ExtendedStatistic"] == "p99"
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["Threshold"] == 800.0 and alarm["Dimensions"] == DIMS
    assert alarm["AlarmActions"] == [TOPIC] and alarm["Namespace"] == "LLM/LoadTest"
    assert one("ttlt.p999 <= 2s")["ExtendedStatistic"] == "p99.9"
    assert one("ttlt.p999 <= 2s")["Threshold"] == 2000.0
    assert one("itl.mean < 30ms")["Statistic"] == "Average"
    assert one("schedule_lag.max < 5ms")["Statistic"] == "Maximum"
    assert one("tpot.p50 > 1ms")["ComparisonOperator"] == "LessThanOrEqualToThreshold"
    assert one("ttft < 1s")["ExtendedStatistic"] == "p95"  # the metric's default statistic
    assert "AlarmActions" not in one("ttft < 1s")


def test_rates_and_costs_use_metric_math() -> None:
    error_rate = one("error_rate < 1%")
    assert error_rate["Threshold"] == 0.01
    metrics = error_rate["Metrics"]
    assert isinstance(metrics, list)
    assert metrics[-1]["Expression"] == "(requests - successes) / requests"
    assert {m["MetricStat"]["Metric"]["MetricName"] for m in metrics[:-1]} == {
        "Requests",
        "Successes",
    }
    assert all(m["ReturnData"] is False for m in metrics[:-1])
    throughput = one("output_tokens_per_s >= 100")
    assert throughput["Metrics"][-1]["Expression"] == "count / PERIOD(count)"  # type: ignore[index]
    assert throughput["ComparisonOperator"] == "LessThanThreshold"
    hourly = one("cost_per_hour < 2.5")
    assert hourly["MetricName"] == "CostUSD" and hourly["Period"] == 3600
    assert hourly["Statistic"] == "Sum" and hourly["Threshold"] == 2.5
    # Per answered request, as the report's cost.per_1k_answered_usd: over Successes.
    per_1k = one("cost_per_1k <= $3")["Metrics"]
    assert per_1k[-1]["Expression"] == "1000 * cost / successes"  # type: ignore[index]
    assert {m["MetricStat"]["Metric"]["MetricName"] for m in per_1k[:-1]} == {  # type: ignore[index]
        "CostUSD",
        "Successes",
    }


def test_what_cloudwatch_cannot_compute_is_refused_with_the_reason() -> None:
    checks = [
        parse_check(text)
        for text in ("ttft_response.p99 < 1s", "quality.mean > 0.8", "cost_per_request.p99 < 0.01")
    ]
    requests, refused = alarm_requests(checks, scenario="s", models=["m1", "m2"])
    assert requests == []
    assert [r.check.metric for r in refused] == ["ttft_response", "quality", "cost_per_request"]
    assert "response time" in str(refused[0]) and str(refused[1]).startswith("not an alarm")


def test_one_alarm_per_check_and_model_and_periods() -> None:
    checks = [parse_check("ttft.p99 < 800ms"), parse_check("error_rate < 5%", "m2")]
    requests, _ = alarm_requests(checks, scenario="s", models=["m1", "m2"], period_s=120)
    assert [r["AlarmName"] for r in requests] == [
        "loadgen s m1 ttft.p99 < 800ms",
        "loadgen s m2 ttft.p99 < 800ms",
        "loadgen s m2 error_rate < 5%",
    ]
    assert requests[0]["Period"] == 120
    assert alarm_period(60, 60) == 60 and alarm_period(90, 60) == 120
    assert alarm_period(5, 1) == 10 and alarm_period(20, 1) == 30 and alarm_period(45, 1) == 60


@pytest.fixture
def scenario_file(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    data = {
        "name": "alarmed",
        "models": ["model-a", "model-b"],
        "prompt": {"template": "Hi {body}"},
        "dataset": {"rows": [{"body": "x"}]},
        "load": {"rate": 1, "requests": 1},
        "thresholds": [
            "ttft.p99 < 800ms",
            "error_rate < 2%",
            "quality.mean > 0.5",
            {"check": "cost_per_hour < 3", "model": "model-b"},
        ],
        "cloudwatch": {"alarm_topic": TOPIC, "dimensions": {"Team": "perf"}},
    }
    path.write_text(yaml.safe_dump(data))
    return path


def test_loadgen_alarms_puts_them_in_moto(
    moto_url: str, aws_env: dict[str, str], scenario_file: Path
) -> None:
    result = CliRunner().invoke(
        main, ["alarms", str(scenario_file), "--cloudwatch-endpoint-url", moto_url]
    )
    assert result.exit_code == 0, result.output
    assert "5 alarms put" in result.output and "1 thresholds refused" in result.output
    assert "not an alarm: `quality.mean > 0.5`" in result.output
    client = boto3.client("cloudwatch", endpoint_url=moto_url, region_name="us-east-1")
    try:
        found = client.describe_alarms(AlarmNamePrefix="loadgen alarmed ")["MetricAlarms"]
    finally:
        client.close()
    by_name = {alarm["AlarmName"]: alarm for alarm in found}
    assert set(by_name) == {
        "loadgen alarmed model-a ttft.p99 < 800ms",
        "loadgen alarmed model-b ttft.p99 < 800ms",
        "loadgen alarmed model-a error_rate < 2%",
        "loadgen alarmed model-b error_rate < 2%",
        "loadgen alarmed model-b cost_per_hour < 3",
    }
    ttft = by_name["loadgen alarmed model-a ttft.p99 < 800ms"]
    assert ttft["Threshold"] == 800.0 and ttft["ExtendedStatistic"] == "p99"
    assert ttft["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert ttft["AlarmActions"] == [TOPIC]
    assert {d["Name"]: d["Value"] for d in ttft["Dimensions"]} == {
        "Model": "model-a",
        "Scenario": "alarmed",
        "Team": "perf",
    }
    errors = by_name["loadgen alarmed model-b error_rate < 2%"]
    assert errors["Threshold"] == 0.02
    assert errors["Metrics"][-1]["Expression"] == "(requests - successes) / requests"
    cost = by_name["loadgen alarmed model-b cost_per_hour < 3"]
    assert cost["Period"] == 3600 and cost["Statistic"] == "Sum" and cost["Threshold"] == 3.0


def test_sns_topic_flag_and_no_thresholds(
    no_aws_env: dict[str, str], scenario_file: Path, tmp_path: Path
) -> None:
    other = "arn:aws:sns:eu-west-1:123456789012:other"
    result = CliRunner().invoke(
        main, ["alarms", str(scenario_file), "--dry-run", "--sns-topic", other]
    )
    assert result.exit_code == 0, result.output
    assert result.output.count('"call": "PutMetricAlarm"') == 5
    assert other in result.output and TOPIC not in result.output
    bare = tmp_path / "bare.yaml"
    data = yaml.safe_load(scenario_file.read_text())
    del data["thresholds"]
    bare.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(main, ["alarms", str(bare), "--dry-run"])
    assert result.exit_code == 2 and "no thresholds" in result.output
