"""`--workers N`: worker processes against the emulator, merged into one report."""

from __future__ import annotations

import itertools
import json
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
from tests.helpers import interrupt_when

PROFILE = {"ttft_ms": 50, "itl_ms": 5, "output_tokens": 10, "tokens_per_delta": 1}
# Slow answers (about 420 ms), so that a small in-flight cap is full most of the time.
SLOW = {"ttft_ms": 400, "itl_ms": 5, "output_tokens": 5, "tokens_per_delta": 1}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    config = EmulatorConfig.model_validate({"seed": 2, "profiles": {"fixed-model": PROFILE}})
    with EmulatorProcess(config) as process:
        yield process.url


@pytest.fixture(scope="module")
def slow_endpoint() -> Iterator[str]:
    config = EmulatorConfig.model_validate({"seed": 2, "profiles": {"fixed-model": SLOW}})
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
    # The parent's handler passes SIGINT on to the workers: sent once both have measured a
    # few requests (the run is under way), not on a timer.
    def both_sending() -> bool:
        files = [tmp_path / "workers" / k / "samples.jsonl" for k in ("0", "1")]
        return all(f.exists() and f.read_bytes().count(b"\n") >= 3 for f in files)

    with interrupt_when(both_sending):
        result = run_with_workers(scenario, _options(tmp_path), 2)
    report = result.report
    assert result.exit_code == 130
    assert report["run"]["status"] == "interrupted"
    assert report["run"]["wall_s"] < 40
    assert {w["status"] for w in report["run"]["workers"]} == {"interrupted"}
    assert report["models"]["fixed-model"]["requests"]["sent"] > 0
    assert json.loads((tmp_path / "report.json").read_text())["run"]["status"] == "interrupted"


def test_the_in_flight_cap_is_split_so_two_workers_drop_as_one_process(
    slow_endpoint: str, aws_env: dict[str, str], make_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    # 40 req/s of ~420 ms answers would keep ~17 in flight: a cap of 4 drops most of them.
    scenario = make_scenario(
        target={"endpoint_url": slow_endpoint},
        load={"rate": 40, "arrival": "constant", "requests": 200, "max_in_flight": 4},
    )
    one = run(scenario, _options(tmp_path / "one")).report
    two = run_with_workers(scenario, _options(tmp_path / "two"), 2).report
    # Each worker ran with its part of the cap (the pool, sized by it, with it); the merged
    # report states the scenario's own.
    parts = [
        json.loads((tmp_path / "two" / "workers" / k / "report.json").read_text())
        for k in ("0", "1")
    ]
    assert [p["run"]["load"]["max_in_flight"] for p in parts] == [2, 2]
    assert two["run"]["load"]["max_in_flight"] == 4
    # What the cap means: never more than 4 requests in flight at once, across both workers
    # (measured from the samples: each request from its dispatch to its end), and the cap
    # was reached. With the cap per worker, as it was, two workers held 8.
    for folder in ("one", "two"):
        assert _most_in_flight(tmp_path / folder / "samples.jsonl") == 4, folder
    dropped_one = one["run"]["generator"]["dropped"]
    dropped_two = two["run"]["generator"]["dropped"]
    assert dropped_one > 100  # the cap really bit
    # The same drops, within 20 of 200. Through a full cap, each of its 4 slots sends one
    # request per answer (~420 ms) plus the wait for the next arrival of its own share: up to
    # 25 ms in one process, 50 ms with two workers (each sends every other request), so
    # ~6 % fewer sends at most (~3 of ~48), the rest being how the answers' times differ
    # between the two runs on a loaded machine (answers 40 % slower in one run would cost
    # ~14). A cap per worker would let twice as many through: ~45 fewer drops.
    assert abs(dropped_two - dropped_one) <= 20, (dropped_one, dropped_two)


def _most_in_flight(samples: Path) -> int:
    """The most requests in flight at one instant: dispatched and not yet ended."""
    events = []
    for line in samples.open():
        sample = json.loads(line)
        if sample["outcome"] != "dropped":
            events += [(sample["dispatch_us"], 1), (sample["end_us"], -1)]
    in_flight = most = 0
    for _, step in sorted(events):  # at one instant, an end (-1) before a dispatch (+1)
        in_flight += step
        most = max(most, in_flight)
    return most


def test_more_workers_than_the_in_flight_cap_are_refused(make_scenario: ScenarioFactory) -> None:
    capped = make_scenario(load={"max_in_flight": 3})
    check_workers(capped, 3, cores=8)
    with pytest.raises(ConfigError, match=r"--workers 4: load.max_in_flight is 3") as refused:
        check_workers(capped, 4, cores=8)
    assert "each needs 1 at least; use at most --workers 3" in str(refused.value)
    pooled = make_scenario(target={"max_connections": 2})
    with pytest.raises(ConfigError, match=r"--workers 3: target.max_connections is 2"):
        check_workers(pooled, 3, cores=8)
    # Left to its default, the count never passes the cap (one per 200 req/s would be 5).
    fast = make_scenario(load={"rate": 1000, "max_in_flight": 3})
    assert workers_for(fast, cpus=8) == 3


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


def test_cli_refuses_more_workers_than_the_in_flight_cap(
    tmp_path: Path, aws_env: dict[str, str]
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nmodels: [m]\nprompt: {template: hi}\ndataset: {rows: [{x: 1}]}\n"
        "load: {rate: 1, requests: 1}\ncost: {allow_unpriced: true}\n"
    )
    arguments = ["run", str(path), "--workers", "2", "--max-in-flight", "1", "--emulate"]
    outcome = CliRunner().invoke(main, [*arguments, "--out", str(tmp_path / "out")])
    assert outcome.exit_code == 2, outcome.output
    assert "--workers 2: load.max_in_flight is 1" in outcome.output
