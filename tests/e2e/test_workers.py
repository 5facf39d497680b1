"""`--workers N`: worker processes against the emulator, merged into one report."""

from __future__ import annotations

import itertools
import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from loadgen.cli import main
from loadgen.config.scenario import scenario_from_dict
from loadgen.core.errors import ConfigError
from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.run import RunOptions, run
from loadgen.scale.worker_count import check_workers, default_workers, workers_for
from loadgen.scale.workers import run_with_workers
from tests.conftest import ScenarioFactory

PROFILE = {"ttft_ms": 50, "itl_ms": 5, "output_tokens": 10, "tokens_per_delta": 1}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    config = EmulatorConfig.model_validate({"seed": 2, "profiles": {"fixed-model": PROFILE}})
    with EmulatorProcess(config) as process:
        yield process.url


def _options(out: Path) -> RunOptions:
    return RunOptions(out_dir=out, quiet=True, html=False, console=Console(quiet=True))


def test_two_workers_send_the_schedule_once_and_merge_exactly(
    endpoint: str, aws_env: dict[str, str], make_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    scenario = make_scenario(
        target={"endpoint_url": endpoint},
        load={"rate": 20, "arrival": "constant", "requests": 40},
    )
    result = run_with_workers(scenario, _options(tmp_path / "two"), 2)
    single = run(scenario, _options(tmp_path / "one")).report
    report = result.report
    assert result.exit_code == 0
    model = report["models"]["fixed-model"]
    assert model["requests"]["sent"] == 40 and model["requests"]["ok"] == 40
    workers = report["run"]["workers"]
    assert [w["worker"] for w in workers] == [0, 1]
    assert [w["dispatched"] for w in workers] == [20, 20]  # constant: every other request
    assert all(w["cpu_percent"] >= 0 and w["lag_ms"]["p99"] is not None for w in workers)
    assert report["run"]["generator"]["target_rps"] == 20
    assert report["run"]["generator"]["scheduled_rps"] == pytest.approx(20, rel=0.05)
    samples = [json.loads(line) for line in (tmp_path / "two" / "samples.jsonl").open()]
    assert sorted(s["request_id"] for s in samples) == list(range(40))
    # Interleaved from one start instant: the union is evenly spaced at 50 ms.
    intended = sorted(s["intended_us"] for s in samples)
    gaps = [b - a for a, b in itertools.pairwise(intended)]
    assert min(gaps) == pytest.approx(50_000, abs=1) and max(gaps) == pytest.approx(50_000, abs=1)
    # The latencies one process measures (the emulator's fixed profile): 15 ms of slack for
    # a 2-core machine shared with other work, where three processes now compete.
    for metric, truth in (("ttft", 50), ("ttlt", 95)):
        merged = model["latency_ms"][metric]["service"]["p50"]
        alone = single["models"]["fixed-model"]["latency_ms"][metric]["service"]["p50"]
        assert merged == pytest.approx(alone, abs=15)
        assert truth <= merged < truth + 30
    assert model["tokens"]["output"]["total"] == 40 * 10


def test_ctrl_c_stops_every_worker_and_the_report_is_written(
    endpoint: str, aws_env: dict[str, str], make_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    scenario = make_scenario(
        target={"endpoint_url": endpoint},
        load={"rate": 10, "arrival": "poisson", "duration": "60s", "requests": None},
    )
    # The parent's handler passes SIGINT on to the workers once they have started.
    timer = threading.Timer(8.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        result = run_with_workers(scenario, _options(tmp_path), 2)
    finally:
        timer.cancel()
    report = result.report
    assert result.exit_code == 130
    assert report["run"]["status"] == "interrupted"
    assert report["run"]["wall_s"] < 40
    assert {w["status"] for w in report["run"]["workers"]} == {"interrupted"}
    assert report["models"]["fixed-model"]["requests"]["sent"] > 0
    assert json.loads((tmp_path / "report.json").read_text())["run"]["status"] == "interrupted"


def test_default_workers_follow_the_rate_up_to_the_cores() -> None:
    assert default_workers(10, cpus=8) == 1
    assert default_workers(250, cpus=8) == 2
    assert default_workers(401, cpus=8) == 3
    assert default_workers(10_000, cpus=8) == 8
    assert default_workers(10_000, cpus=2) == 2


def test_runs_that_cannot_be_split_are_refused(make_scenario: ScenarioFactory) -> None:
    scenario = make_scenario(models=["a", "b"], load={"model_order": "sequential"})
    with pytest.raises(ConfigError, match="sequential"):
        check_workers(scenario, 2)
    with pytest.raises(ConfigError, match="give 1 or more"):
        check_workers(scenario, 0)
    check_workers(scenario, 1)
    closed = scenario_from_dict(
        {
            "name": "closed",
            "models": ["a"],
            "prompt": {"template": "{body}"},
            "dataset": {"rows": [{"id": "r", "body": "hello"}]},
            "load": {"concurrency": 4, "requests": 10},
            "cost": {"allow_unpriced": True},
        }
    )
    with pytest.raises(ConfigError, match="closed loop"):
        check_workers(closed, 2)
    assert workers_for(closed) == 1  # left to its default, a closed loop runs in one process


def test_cli_refuses_zero_workers(tmp_path: Path, aws_env: dict[str, str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nmodels: [m]\nprompt: {template: hi}\ndataset: {rows: [{x: 1}]}\n"
        "load: {rate: 1, requests: 1}\ncost: {allow_unpriced: true}\n"
    )
    outcome = CliRunner().invoke(main, ["run", str(path), "--workers", "0", "--emulate"])
    assert outcome.exit_code == 2, outcome.output
    assert "--workers 0" in outcome.output
