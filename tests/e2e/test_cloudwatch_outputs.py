"""Emulated runs: EMF lines and dry-run calls add up to the report; CloudWatch down does not
stop the run, and --require-cloudwatch turns it into exit code 5."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from loadgen.record.interval_metrics import DISTRIBUTIONS, METRIC_UNITS
from loadgen.run import EXIT_CLOUDWATCH, RunOptions, run_async
from loadgen.sinks.emf import MAX_EMF_VALUES
from tests.conftest import ScenarioFactory
from tests.helpers import closed_port

PROFILES = {
    "profiles": {
        "fast-model": {"ttft_ms": 10, "itl_ms": 2, "output_tokens": 5},
        "throttle-model": {"ttft_ms": 10, "faults": {"throttle": 0.5}},
    }
}


def options(tmp_path: Path, **changes: Any) -> RunOptions:
    return RunOptions(
        out_dir=tmp_path, emulate=True, quiet=True, console=Console(quiet=True), **changes
    )


def expected(report: dict[str, Any], model: str) -> dict[str, float]:
    data = report["models"][model]
    return {
        "Requests": data["requests"]["sent"],
        "Successes": data["requests"]["ok"],
        "Throttles": data["requests"]["errors"]["throttled"],
        "OutputTokens": data["tokens"]["output"]["total"] or 0,
    }


def check_emf(line: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(line)
    meta = document["_aws"]
    assert isinstance(meta["Timestamp"], int) and meta["Timestamp"] > 1_600_000_000_000
    (directive,) = meta["CloudWatchMetrics"]
    assert directive["Namespace"] == "LLM/LoadTest"
    assert directive["Dimensions"] == [["Model", "Scenario", "Team"]]
    for name in ("Model", "Scenario", "Team"):
        assert isinstance(document[name], str)  # every dimension is a member of the root
    assert len(directive["Metrics"]) <= 100
    for metric in directive["Metrics"]:
        assert set(metric) == {"Name", "Unit", "StorageResolution"}
        assert metric["Unit"] == METRIC_UNITS[metric["Name"]]
        assert metric["StorageResolution"] == 60
        value = document[metric["Name"]]  # every metric is a member of the root
        if metric["Name"] in DISTRIBUTIONS:
            assert set(value) == {"Values", "Counts"}
            assert len(value["Values"]) == len(value["Counts"]) <= MAX_EMF_VALUES
            assert value["Values"] == sorted(value["Values"])
        else:
            assert isinstance(value, float | int)
    return document


async def test_emf_lines_and_dry_run_calls_add_up_to_the_report(
    make_scenario: ScenarioFactory,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_aws_env: dict[str, str],
) -> None:
    scenario = make_scenario(
        models=["fast-model", "throttle-model"],
        emulator=PROFILES,
        load={"rate": 40, "arrival": "constant", "requests": 60},
        cloudwatch={
            "enabled": True,
            "interval": "1s",
            "dashboard": True,
            "dimensions": {"Team": "perf"},
        },
    )
    emf_path = tmp_path / "metrics.emf.jsonl"
    result = await run_async(
        scenario, options(tmp_path, emf=str(emf_path), cloudwatch_dry_run=True)
    )
    report = result.report
    assert result.exit_code == 0
    section = report["run"]["cloudwatch"]
    assert section["dry_run"] and section["complete"] and section["dashboard"]["put"]

    emf_totals: dict[str, Counter[str]] = {}
    ttft_counts: Counter[str] = Counter()
    lines = emf_path.read_text().splitlines()
    assert len(lines) >= 2  # at least one interval and the end, or two models
    for line in lines:
        document = check_emf(line)
        totals = emf_totals.setdefault(document["Model"], Counter())
        for name in ("Requests", "Successes", "Throttles", "OutputTokens"):
            totals[name] += document[name]
        if "TTFT" in document:
            ttft_counts[document["Model"]] += sum(document["TTFT"]["Counts"])

    calls = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    assert calls[0]["call"] == "PutDashboard"
    call_totals: dict[str, Counter[str]] = {}
    for call in calls[1:]:
        assert call["call"] == "PutMetricData" and call["Namespace"] == "LLM/LoadTest"
        assert len(call["MetricData"]) <= 1000
        for datum in call["MetricData"]:
            model = datum["Dimensions"][0]["Value"]
            if "Value" in datum:
                call_totals.setdefault(model, Counter())[datum["MetricName"]] += datum["Value"]

    for model in ("fast-model", "throttle-model"):
        want = expected(report, model)
        assert {k: emf_totals[model][k] for k in want} == want
        assert {k: call_totals[model][k] for k in want} == want
        assert ttft_counts[model] == report["models"][model]["requests"]["ok"]
    assert expected(report, "throttle-model")["Throttles"] > 0


@pytest.mark.parametrize("require", [False, True])
async def test_a_run_with_cloudwatch_down_still_writes_its_report(
    make_scenario: ScenarioFactory, tmp_path: Path, aws_env: dict[str, str], require: bool
) -> None:
    scenario = make_scenario(
        load={"rate": 20, "arrival": "constant", "requests": 10},
        cloudwatch={
            "enabled": True,
            "dashboard": True,
            "endpoint_url": f"http://127.0.0.1:{closed_port()}",
        },
    )
    result = await run_async(scenario, options(tmp_path, require_cloudwatch=require))
    assert result.exit_code == (EXIT_CLOUDWATCH if require else 0)
    written = json.loads((tmp_path / "report.json").read_text())
    assert written["models"]["fixed-model"]["requests"]["sent"] == 10
    section = written["run"]["cloudwatch"]
    assert section["complete"] is False
    assert section["published_data"] == 0 and section["dropped_data"] > 0
    assert "EndpointConnectionError" in section["last_error"]
    assert section["dashboard"] == {"name": "loadgen-test", "put": False}
    assert section["errors"] and "PutDashboard" in section["errors"][0]


def test_cli_dry_run_with_dashboard_and_alarms(tmp_path: Path, no_aws_env: dict[str, str]) -> None:
    from click.testing import CliRunner

    from loadgen.cli import main
    from loadgen.commands.demo import demo_scenario

    out = tmp_path / "out"
    flags = ["--emulate", "--rps", "20", "--requests", "6", "--out", str(out), "--quiet"]
    flags += ["--dashboard", "--alarms", "--dry-run", "--skip-preflight"]
    result = CliRunner().invoke(main, ["run", str(demo_scenario(tmp_path)), *flags])
    assert result.exit_code == 0, result.output
    calls = [json.loads(line)["call"] for line in result.stdout.splitlines() if line]
    # The dashboard, 3 thresholds x 3 models, then the metrics (--dashboard implies publishing).
    assert calls[:10] == ["PutDashboard"] + ["PutMetricAlarm"] * 9
    assert set(calls[10:]) == {"PutMetricData"}
    section = json.loads((out / "report.json").read_text())["run"]["cloudwatch"]
    assert section["dry_run"] and section["complete"] and section["alarms"]["put"] == 9
