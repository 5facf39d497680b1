"""The dashboard body (well-formed, every model named) and `loadgen dashboard` against moto."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import yaml
from click.testing import CliRunner

from loadgen.cli import main
from loadgen.cloudwatch.dashboard import (
    BEDROCK_NAMESPACE,
    BEDROCK_WIDGETS,
    bedrock_model_ids,
    dashboard_body,
    dashboard_name,
)

MODELS = ["us.amazon.nova-lite-v1:0", "eu.anthropic.claude-3-haiku-20240307-v1:0", "my-model"]
SCENARIO = {
    "name": "dash.board",
    "models": MODELS,
    "prompt": {"template": "Hi {body}"},
    "dataset": {"rows": [{"body": "x"}]},
    "load": {"rate": 1, "requests": 1},
    "cloudwatch": {"namespace": "LLM/Dash", "dimensions": {"Team": "perf"}},
}


def check_row(row: list[Any], ids: set[str]) -> str | None:
    """One `metrics` row: [namespace, metric, (name, value)*, {options}] or [{expression}].
    Returns the model named in it, if any."""
    assert isinstance(row, list) and row
    *head, last = row
    options = last if isinstance(last, dict) else {}
    if not isinstance(last, dict):
        head = row
    if "expression" in options:
        assert head == []
        for ref in re.findall(r"\bm\d+\b", options["expression"]):
            assert ref in ids, ref  # refers to a metric of the same widget
        return str(options["label"])
    assert all(isinstance(part, str) and part for part in head)
    namespace, metric, *dims = head
    assert len(dims) % 2 == 0 and len(dims) // 2 <= 30
    pairs = dict(zip(dims[::2], dims[1::2], strict=True))
    assert metric
    if namespace == BEDROCK_NAMESPACE:
        assert list(pairs) == ["ModelId"]
        return pairs["ModelId"]
    assert pairs == {"Model": pairs["Model"], "Scenario": "dash.board", "Team": "perf"}
    return pairs["Model"]


def test_the_body_is_well_formed_and_names_every_model() -> None:
    body = dashboard_body(
        scenario="dash.board",
        models=MODELS,
        region="eu-west-1",
        namespace="LLM/Dash",
        dimensions={"Team": "perf"},
    )
    assert json.loads(json.dumps(body)) == body
    widgets = body["widgets"]
    titles = [w["properties"]["title"] for w in widgets]
    for want in ("TTFT p50", "TTFT p90", "TTFT p99", "TTLT p99", "Output tokens/s", "Errors"):
        assert any(t.startswith(want) for t in titles), want
    assert {"Throttles", "Cost (USD)"} <= set(titles)
    assert sum(t.startswith("Bedrock") for t in titles) == len(BEDROCK_WIDGETS)
    cells: set[tuple[int, int]] = set()
    for widget in widgets:
        assert widget["type"] == "metric"
        x, y, width, height = (widget[k] for k in ("x", "y", "width", "height"))
        assert all(isinstance(v, int) for v in (x, y, width, height))
        assert x >= 0 and x + width <= 24 and 1 <= height <= 1000
        cell = {(x + i, y + j) for i in range(width) for j in range(height)}
        assert not cell & cells  # widgets do not overlap
        cells |= cell
        properties = widget["properties"]
        assert properties["region"] == "eu-west-1"
        assert properties["view"] == "timeSeries" and properties["period"] == 60
        ids = {row[-1]["id"] for row in properties["metrics"] if "id" in row[-1]}
        named = {check_row(row, ids) for row in properties["metrics"]}
        if properties["title"].startswith("Bedrock"):
            # Profile ids and their base model ids, so data shows under either.
            assert named == {i for m in MODELS for i in bedrock_model_ids(m)}
            assert BEDROCK_NAMESPACE in json.dumps(properties["metrics"])
        else:
            assert named == set(MODELS), properties["title"]


def test_bedrock_ids_of_cross_region_profiles() -> None:
    assert bedrock_model_ids("us.amazon.nova-lite-v1:0") == [
        "us.amazon.nova-lite-v1:0",
        "amazon.nova-lite-v1:0",
    ]
    assert bedrock_model_ids("global.anthropic.claude-sonnet-4-5-20250929-v1:0")[1] == (
        "anthropic.claude-sonnet-4-5-20250929-v1:0"
    )
    assert bedrock_model_ids("amazon.nova-pro-v1:0") == ["amazon.nova-pro-v1:0"]
    assert dashboard_name("a.b c") == "loadgen-a_b_c"


def test_loadgen_dashboard_puts_it_in_moto(
    moto_url: str, aws_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(SCENARIO))
    result = CliRunner().invoke(
        main,
        ["dashboard", str(path), "--region", "eu-west-1", "--cloudwatch-endpoint-url", moto_url],
    )
    assert result.exit_code == 0, result.output
    assert "loadgen-dash_board" in result.output
    client = boto3.client("cloudwatch", endpoint_url=moto_url, region_name="eu-west-1")
    try:
        stored = client.get_dashboard(DashboardName="loadgen-dash_board")
    finally:
        client.close()
    body = json.loads(stored["DashboardBody"])
    assert body == dashboard_body(
        scenario="dash.board",
        models=MODELS,
        region="eu-west-1",
        namespace="LLM/Dash",
        dimensions={"Team": "perf"},
    )


def test_dry_run_prints_the_call_and_needs_no_credentials(
    no_aws_env: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(SCENARIO))
    result = CliRunner().invoke(main, ["dashboard", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    call = json.loads(result.output)
    assert call["call"] == "PutDashboard" and call["DashboardName"] == "loadgen-dash_board"
    assert len(json.loads(call["DashboardBody"])["widgets"]) > 10


def test_an_unreachable_cloudwatch_exits_5(aws_env: dict[str, str], tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(SCENARIO))
    closed = "http://127.0.0.1:9"  # discard port: nothing listens there
    result = CliRunner().invoke(main, ["dashboard", str(path), "--cloudwatch-endpoint-url", closed])
    assert result.exit_code == 5
    assert "PutDashboard loadgen-dash_board failed" in result.output
    assert "Traceback" not in result.output
