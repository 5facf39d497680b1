"""Choosing an API: validation, what a two-API run plans, and how its figures are reported."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pytest

from loadgen.backends.apis import make_backend
from loadgen.config.apis import STREAMING_PAIRS, apis_of_run
from loadgen.config.scenario import load_scenario
from loadgen.core.errors import ConfigError, PreflightError
from loadgen.plan.phases import plan
from loadgen.plan.prompts import PromptSource, load_rows
from loadgen.run import RunOptions, run_async
from tests.conftest import ScenarioFactory
from tests.factories import make_report, make_sample

# A request of either API: TTFT 200 ms and TTLT 1 s from the send, of which the server said 990 ms.
sample = partial(make_sample, start_us=0, end_us=1_000_150, server_latency_ms=990)
# The run of a compare_streaming scenario: the streaming API first, the other compared with it.
TWO_APIS: dict[str, Any] = {
    "target": {"api": "bedrock-converse-stream"},
    "compared_api": "bedrock-converse",
    "scheduled": 20,
}


def test_every_api_has_a_twin_of_the_other_mode() -> None:
    assert apis_of_run("bedrock-converse", compare_streaming=True) == [
        "bedrock-converse",
        "bedrock-converse-stream",
    ]
    assert apis_of_run("openai-chat", compare_streaming=False) == ["openai-chat"]
    for api, twin in STREAMING_PAIRS.items():
        assert STREAMING_PAIRS[twin] == api


def test_unknown_api_is_named_by_its_flag(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nmodels: [m]\nprompt: {template: hi}\ndataset: {rows: [{id: a}]}\n"
        "load: {requests: 1}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_scenario(path, {"target": {"api": "bedrock-chat"}})
    assert "--api" in str(caught.value) and "bedrock-converse-stream" in str(caught.value)


async def test_invoke_refuses_models_without_a_native_body(
    make_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    scenario = make_scenario(
        models=["amazon.nova-lite-v1:0", "meta.llama3-70b-instruct-v1:0"],
        target={"api": "bedrock-invoke"},
    )
    options = RunOptions(out_dir=tmp_path, emulate=True, quiet=True)
    with pytest.raises(ConfigError) as caught:
        await run_async(scenario, options)
    message = str(caught.value)
    assert "models[1]: meta.llama3-70b-instruct-v1:0" in message
    assert "models[0]" not in message
    assert not (tmp_path / "samples.jsonl").exists()


async def test_openai_needs_a_base_url(make_scenario: ScenarioFactory, tmp_path: Path) -> None:
    scenario = make_scenario(target={"api": "openai-chat"})
    with pytest.raises(ConfigError, match=r"target\.endpoint_url"):
        await run_async(scenario, RunOptions(out_dir=tmp_path, quiet=True))


def test_api_key_env_must_be_set(
    make_scenario: ScenarioFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LOADGEN_TEST_KEY", raising=False)
    scenario = make_scenario(
        target={
            "api": "openai-chat",
            "endpoint_url": "http://127.0.0.1:9/v1",
            "api_key_env": "LOADGEN_TEST_KEY",
        }
    )
    with pytest.raises(PreflightError, match="LOADGEN_TEST_KEY") as caught:
        make_backend("openai-chat", scenario.target, scenario.timeouts, pool_size=1)
    monkeypatch.setenv("LOADGEN_TEST_KEY", "sk-secret-value")
    make_backend("openai-chat", scenario.target, scenario.timeouts, pool_size=1)
    assert "sk-secret" not in str(caught.value)


def test_second_api_replays_the_same_prompts_and_arrivals(make_scenario: ScenarioFactory) -> None:
    scenario = make_scenario(load={"rate": 5, "arrival": "poisson", "requests": 8})
    prompts = PromptSource(scenario, load_rows(scenario), 7)
    first = list(plan(scenario, ["fixed-model"], prompts, 7, first_id=0, api="a"))
    second = list(plan(scenario, ["fixed-model"], prompts, 7, first_id=8, api="b", replay_from=0))
    assert [p.offset_ns for p in first] == [p.offset_ns for p in second]
    assert [p.request.prompt for p in first] == [p.request.prompt for p in second]
    assert [p.request.request_id for p in second] == list(range(8, 16))
    assert {p.request.api for p in second} == {"b"}


def test_server_timings_and_client_overhead_per_model() -> None:
    samples = [
        sample(i, api="bedrock-converse-stream", server_first_byte_ms=180) for i in range(10)
    ]
    report = make_report(samples, target={"api": "bedrock-converse-stream"}, scheduled=20)
    latency = report["models"]["m"]["latency_ms"]
    assert latency["server_latency"]["p50"] == pytest.approx(990, rel=1e-3)
    assert latency["server_first_byte"]["p50"] == pytest.approx(180, rel=1e-3)
    # TTLT from send is 1000 ms; the server said 990 ms: 10 ms were the client's.
    assert latency["client_overhead"]["p50"] == pytest.approx(10, rel=1e-3)
    assert report["streaming_comparison"] is None


def test_streaming_comparison_section() -> None:
    samples = []
    for i in range(10):
        samples.append(sample(i, api="bedrock-converse-stream"))
        samples.append(
            sample(100 + i, api="bedrock-converse", first_token_us=None, end_us=1_100_150)
        )
    report = make_report(samples, **TWO_APIS)
    assert report["models"]["m"]["requests"]["sent"] == 10  # the first API's only
    section = report["streaming_comparison"]
    assert section["streaming_api"] == "bedrock-converse-stream"
    assert section["non_streaming_api"] == "bedrock-converse"
    (row,) = section["models"]
    assert row["streaming"]["ttft_p50_ms"] == pytest.approx(200, rel=1e-3)
    assert row["non_streaming"]["ttft_p50_ms"] is None  # not measured, not zero
    assert row["non_streaming"]["ttlt_p50_ms"] == pytest.approx(1100, rel=1e-3)
    assert row["ttlt_p50_difference_ms"] == pytest.approx(100, rel=1e-2)
    assert section["compared_models"]["m"]["requests"]["sent"] == 10


def test_console_shows_server_timings_and_the_comparison() -> None:
    from rich.console import Console

    from loadgen.report.console import print_summary

    samples = []
    for i in range(4):
        samples.append(sample(i, api="bedrock-converse-stream"))
        samples.append(sample(10 + i, api="bedrock-converse", first_token_us=None))
    report = make_report(samples, **TWO_APIS)
    console = Console(record=True, width=200)
    print_summary(report, console)
    text = console.export_text()
    assert "server timings" in text and "990" in text  # the server's p50 beside TTLT
    assert "streaming (bedrock-converse-stream) vs not (bedrock-converse)" in text
    assert "n/a" in text  # the non-streaming API's TTFT is not shown as measured
