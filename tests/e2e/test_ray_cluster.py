"""`loadgen run --ray ADDRESS` on a Ray cluster of several nodes: the actors spread over the
nodes, the merge exact, and a node killed mid-run reported as a death (exit 7) with what its
actor had already sent merged.

The cluster is Ray's own test cluster (`ray.cluster_utils.Cluster`) on this machine: a head
node without CPUs (so that no share runs beside the driver) and two worker nodes of two CPUs
each, every node its own raylet. The run is a real `loadgen run` in a process of its own, the
driver, connected by the cluster's address, against an emulator of the test's (its request
log is what the samples are checked against). Every wait polls with a generous deadline.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.report.schema import validate_report
from loadgen.run.finish import EXIT_WORKER_DIED
from loadgen.scale.ray_samples import FLUSH_S
from tests.conftest import FAKE_KEY_ID, FAKE_SECRET
from tests.emulator_log import EmulatorLog, lateness_max_ms, planned_last_ms
from tests.helpers import REPO

pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs ray"),
    pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="finds actors through /proc"),
]

PROFILE = {"ttft_ms": 50, "itl_ms": 5, "output_tokens": 10, "tokens_per_delta": 1}
PATIENCE_S = 120.0  # far beyond what any step takes, even on a slow, shared machine
# A sample reaches the driver within one flush interval of being written, plus one post's
# round trip and the client's own reading of the answer: on a loaded 2-core machine, well
# under this.
POST_SLACK_S = 0.5
# Ray marks a lost node dead after missed health checks: here every second, 3 missed, so
# that it is marked dead within seconds (the report says "node lost" once it is) and no later
# actor is placed on it. The actor's death itself shows sooner: its connection closes.
FAST_NODE_DEATH = {
    "health_check_initial_delay_ms": 1000,
    "health_check_period_ms": 1000,
    "health_check_failure_threshold": 3,
}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A head node (no CPUs: the driver and the barrier only) and two worker nodes."""
    from ray.cluster_utils import Cluster

    home = tmp_path_factory.mktemp("aws")
    with pytest.MonkeyPatch.context() as env:
        # The raylets, started from this process, hand these to the actors they start: the
        # fake credentials of tests/conftest.py's aws_env, nothing read from ~/.aws.
        for key, value in _aws_env(home).items():
            env.setenv(key, value)
        env.delenv("AWS_PROFILE", raising=False)
        env.delenv("RAY_ADDRESS", raising=False)
        cluster: Any = Cluster(  # Ray's test utilities are not typed
            initialize_head=True,
            connect=False,
            head_node_args={
                "num_cpus": 0,
                "include_dashboard": False,
                "_system_config": FAST_NODE_DEATH,
            },
        )
        try:
            _top_up(cluster)
            yield cluster
        finally:
            cluster.shutdown()


def _top_up(cluster: Any) -> None:
    """Two live worker nodes, whatever an earlier test removed."""
    while len(cluster.worker_nodes) < 2:
        cluster.add_node(num_cpus=2)
    cluster.wait_for_nodes()


def _aws_env(home: Path) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(home / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[EmulatorProcess, Path]]:
    log_path = tmp_path_factory.mktemp("emulator") / "requests.jsonl"
    config = EmulatorConfig.model_validate({"seed": 5, "profiles": {"fixed-model": PROFILE}})
    with EmulatorProcess(config, log_path=log_path) as process:
        yield process, log_path


def _scenario(folder: Path, url: str, load: str) -> Path:
    # Two rows of different lengths, in order: with constant arrivals actor 0 sends the even
    # request ids, all of row a, and actor 1 the odd ones, all of row b, so the emulator's
    # log tells the actors apart by input tokens.
    path = folder / "cluster.yaml"
    path.write_text(
        f"""\
name: cluster
models: [fixed-model]
prompt: {{template: "Summarise: {{body}}"}}
dataset:
  shuffle: false
  rows: [{{id: a, body: "short"}}, {{id: b, body: "{"much longer " * 20}"}}]
inference: {{max_tokens: 100}}
target: {{endpoint_url: "{url}", region: us-east-1}}
load: {load}
cost: {{allow_unpriced: true}}
seed: 1
"""
    )
    return path


def _start_driver(cluster: Any, scenario: Path, out: Path, home: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "loadgen.cli", "run", str(scenario), "--workers", "2"]
    command += [f"--ray={cluster.address}", "--out", str(out), "--no-html"]
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "RAY_ADDRESS")}
    return subprocess.Popen(
        command,
        cwd=REPO,
        env={**env, **_aws_env(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _finish(driver: subprocess.Popen[str]) -> str:
    try:
        output, _ = driver.communicate(timeout=PATIENCE_S)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    return output


def _samples(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _measured(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The emulator's lines of scheduled requests (preflight probes ask for one token)."""
    return [line for line in lines if line.get("output_tokens") == PROFILE["output_tokens"]]


def _node_ids(cluster: Any) -> set[str]:
    return {node.node_id for node in cluster.worker_nodes}


def test_actors_spread_over_the_nodes_and_the_merge_is_exact(
    cluster: Any, emulator: tuple[EmulatorProcess, Path], tmp_path: Path
) -> None:
    _top_up(cluster)
    process, log_path = emulator
    log = EmulatorLog(log_path, process.stats)
    since = log.mark()
    load = "{rate: 20, arrival: constant, requests: 60}"
    scenario = _scenario(tmp_path, process.url, load)
    out = tmp_path / "out"
    output = _finish(_start_driver(cluster, scenario, out, tmp_path))
    report = json.loads((out / "report.json").read_text())
    validate_report(report)
    assert report["run"]["status"] == "completed", output
    workers = report["run"]["workers"]
    # SPREAD: one actor on each worker node (each has room for both), none on the head.
    nodes = [w["node"]["id"] for w in workers]
    assert len(set(nodes)) == 2 and set(nodes) <= _node_ids(cluster), (nodes, output)
    assert all(w["node"]["ip"] for w in workers)
    # Exact: what the emulator served is what the samples hold, and the shares add up.
    served = _measured(log.settled()[since:])
    samples = _samples(out / "samples.jsonl")
    assert len(served) == len(samples) == 60
    assert sorted(s["request_id"] for s in samples) == list(range(60))
    model = report["models"]["fixed-model"]
    assert model["requests"]["sent"] == sum(w["dispatched"] for w in workers) == 60
    for worker in workers:  # each share's lines came to the driver's folder as it ran
        share = _samples(out / "workers" / str(worker["worker"]) / "samples.jsonl")
        assert len(share) == worker["dispatched"] == 30
        assert {s["request_id"] % 2 for s in share} == {worker["worker"]}
    assert model["tokens"]["output"]["total"] == sum(s["output_tokens"] for s in samples)


def _actor_of(cluster: Any, parity: int) -> tuple[int, Path, Any] | None:
    """(pid, scratch folder, node) of the actor mid-run whose samples have request ids of
    this parity: a process with a loadgen-ray-*/samples.jsonl open, started by a worker
    node's raylet."""
    raylets = {node.all_processes["raylet"][0].process.pid: node for node in cluster.worker_nodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent not in raylets:
                continue
            for fd in (proc / "fd").iterdir():
                path = Path(os.readlink(fd))
                if path.name == "samples.jsonl" and path.parent.name.startswith("loadgen-ray-"):
                    first = path.read_text().split("\n", 1)[0]
                    if first and json.loads(first)["request_id"] % 2 == parity:
                        return int(proc.name), path.parent, raylets[parent]
    return None


def _poll(what: str, check: Callable[[], object]) -> Any:
    deadline = time.monotonic() + PATIENCE_S
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {PATIENCE_S:.0f} s: {what}")
        time.sleep(0.1)
    return found


def test_a_node_killed_mid_run_is_a_death_and_what_its_actor_sent_is_merged(
    cluster: Any, emulator: tuple[EmulatorProcess, Path], tmp_path: Path
) -> None:
    _top_up(cluster)
    process, log_path = emulator
    log = EmulatorLog(log_path, process.stats)
    since = log.mark()
    scenario = _scenario(tmp_path, process.url, "{rate: 20, arrival: constant, duration: 120s}")
    out = tmp_path / "out"
    driver = _start_driver(cluster, scenario, out, tmp_path)
    try:
        sent_so_far = out / "workers" / "1" / "samples.jsonl"
        # Mid-run: actor 1's samples are reaching the driver (10 req/s per actor).
        _poll(
            "actor 1 sent 20 samples",
            lambda: sent_so_far.is_file() and len(_samples(sent_so_far)) >= 20,
        )
        pid, scratch, node = _poll("actor 1 found", lambda: _actor_of(cluster, 1))
        killed_at = time.time()
        cluster.remove_node(node, allow_graceful=False)  # raylet and all: the node is gone
        shutil.rmtree(scratch, ignore_errors=True)  # a lost machine's disk goes with it
        output = _finish(driver)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert driver.returncode == EXIT_WORKER_DIED, output
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()
    report = json.loads((out / "report.json").read_text())
    validate_report(report)
    section = report["run"]
    assert section["status"] == "aborted"
    short = f"{node.node_id[:8]} \\([^)]+\\)"
    # "node lost: " where Ray has marked the node dead by the end of the run (health checks
    # a second apart here: it may or may not have by then).
    found = re.fullmatch(
        rf"actor 1 died \((?:node lost: )?(\w+)\) on node {short} at \d+\.\d s; "
        r"its (\d+) samples so far are merged",
        section["status_reason"],
    )
    assert found, section["status_reason"]
    assert found[1] in ("ActorDiedError", "ActorUnavailableError", "RayActorError")
    dead = _samples(out / "workers" / "1" / "samples.jsonl")
    assert int(found[2]) == len(dead) >= 20
    assert all(s["request_id"] % 2 == 1 for s in dead)
    assert [(w["worker"], w["status"]) for w in section["workers"]] == [
        (0, "interrupted"),  # stopped by the driver, as Ctrl-C stops a run
        (1, "aborted"),
    ]
    assert {w["node"]["id"] for w in section["workers"]} <= _node_ids(cluster) | {node.node_id}
    # What the emulator finished for actor 1 (its row's input tokens) well before the kill:
    # every one of those requests is in the merged samples. Constant arrivals, equal answer
    # times: the emulator served actor 1's requests in the order of their ids 1, 3, 5, ...
    served = _measured(log.settled()[since:])
    tokens_of_b = dead[0]["input_tokens"]
    lines_b = sorted(
        (line for line in served if line["input_tokens"] == tokens_of_b),
        key=lambda line: line["received_unix"],
    )
    late_s = lateness_max_ms(process.stats()) / 1000
    before = killed_at - FLUSH_S - POST_SLACK_S
    ended_before = [
        line
        for line in lines_b
        if line["received_unix"] + planned_last_ms(line) / 1000 + late_s < before
    ]
    print(
        f"actor 1: {len(ended_before)} requests ended by kill - {FLUSH_S + POST_SLACK_S} s, "
        f"{len(dead)} merged, {len(lines_b)} served"
    )
    assert len(ended_before) >= 10
    merged = _samples(out / "samples.jsonl")
    merged_ids = {s["request_id"] for s in merged}
    assert {2 * j + 1 for j in range(len(ended_before))} <= merged_ids
    assert len(dead) <= len(lines_b)  # nothing it did not send
    # The survivor's share is whole: every request the emulator served for it is there.
    survivor = _samples(out / "workers" / "0" / "samples.jsonl")
    assert len(survivor) == len([line for line in served if line["input_tokens"] != tokens_of_b])
    assert len(merged) == len(survivor) + len(dead)
    model = report["models"]["fixed-model"]
    assert model["requests"]["sent"] + model["requests"]["dropped"] == len(merged)
    assert section["wall_s"] < 100  # stopped, not run to its 120 s
