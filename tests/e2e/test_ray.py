"""`loadgen run --ray`: Ray actors as the workers, against the emulator, merged exactly."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import itertools
import json
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

from loadgen.cli import main
from loadgen.run import RunOptions
from tests.conftest import ScenarioFactory, build_scenario
from tests.emulator_log import CLIENT_MEDIAN_MS, ROUNDING_MS, lateness_max_ms
from tests.helpers import interrupt_when

RAY_INSTALLED = importlib.util.find_spec("ray") is not None
PROFILE = {"ttft_ms": 50, "itl_ms": 5, "output_tokens": 10, "tokens_per_delta": 1}


@pytest.mark.skipif(RAY_INSTALLED, reason="checks the error shown when ray is not installed")
def test_ray_without_ray_installed_says_how_to_install_it(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nmodels: [m]\nprompt: {template: hi}\ndataset: {rows: [{x: 1}]}\n"
        "load: {rate: 1, requests: 1}\ncost: {allow_unpriced: true}\n"
    )
    outcome = CliRunner().invoke(main, ["run", str(path), "--ray", "--emulate"])
    assert outcome.exit_code == 2, outcome.output
    assert "pip install 'loadgen[ray]'" in outcome.output
    assert "Traceback" not in outcome.output


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        yield ray
    finally:
        ray.shutdown()


REQUESTS = 60  # 20 req/s: 3 s, long enough for the board to be redrawn as the run goes


@pytest.fixture(scope="module")
def ray_run(local_ray: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str, Path]:
    """One 2-actor run with the live board on, read by the tests of the merge and of the board:
    its result, what the board drew, and its folder."""
    from loadgen.scale.ray_workers import run_with_ray

    out = tmp_path_factory.mktemp("ray-run")
    scenario = build_scenario(
        out,
        load={"rate": 20, "arrival": "constant", "requests": REQUESTS},
        emulator={"profiles": {"fixed-model": PROFILE}},
    )
    screen = io.StringIO()
    options = RunOptions(
        out_dir=out,
        emulate=True,
        quiet=True,
        html=False,
        progress=True,
        console=Console(file=screen, force_terminal=True, width=140),
    )
    started = time.monotonic()
    result = run_with_ray(scenario, options, None, 2)
    print(f"2-actor Ray run: {time.monotonic() - started:.1f} s")
    return result, screen.getvalue(), out


def test_two_ray_actors_send_the_schedule_once_and_merge_exactly(
    ray_run: tuple[Any, str, Path],
) -> None:
    result, _, out = ray_run
    report = result.report
    assert result.exit_code == 0
    model = report["models"]["fixed-model"]
    assert model["requests"]["sent"] == REQUESTS and model["requests"]["ok"] == REQUESTS
    workers = report["run"]["workers"]
    assert [w["worker"] for w in workers] == [0, 1]
    assert [w["dispatched"] for w in workers] == [REQUESTS // 2] * 2  # every other request
    assert report["run"]["notes"][0].startswith("sent by 2 Ray actors")
    assert report["run"]["generator"]["target_rps"] == 20
    # The actors' files came back to the driver's folder and were merged there.
    assert (out / "workers" / "0" / "report.json").is_file()
    samples = [json.loads(line) for line in (out / "samples.jsonl").open()]
    assert sorted(s["request_id"] for s in samples) == list(range(REQUESTS))
    # One start instant, sent as wall-clock time and converted in each actor: the union of
    # the intended instants is evenly spaced at 50 ms.
    intended = sorted(s["intended_us"] for s in samples)
    gaps = [b - a for a, b in itertools.pairwise(intended)]
    assert min(gaps) == pytest.approx(50_000, abs=1) and max(gaps) == pytest.approx(50_000, abs=1)
    # Never before the emulator's planned 50 ms; above it by at most the emulator's own worst
    # lateness (its stats, in the report) and the client's reading of the frame.
    late_ms = lateness_max_ms(report["run"]["emulator"])
    ttft_p50 = model["latency_ms"]["ttft"]["service"]["p50"]
    assert ttft_p50 is not None
    assert 50 - ROUNDING_MS <= ttft_p50 <= 50 + late_ms + CLIENT_MEDIAN_MS
    assert model["tokens"]["output"]["total"] == REQUESTS * 10


def test_the_driver_shows_the_actors_live_progress_summed(ray_run: tuple[Any, str, Path]) -> None:
    result, output, _ = ray_run
    assert result.exit_code == 0
    sent = [int(n) for n in re.findall(r"sent (\d+)  in flight", output)]
    assert len(set(sent)) >= 3, output  # the actors' snapshots came in as the run went
    assert sent == sorted(sent)
    assert sent[-1] == REQUESTS  # every actor's last snapshot reached the driver
    assert "workers: 2  CPU of a core: 0: " in output
    assert re.search(rf"fixed-model\s+{REQUESTS}\s+0\s+\d+\.\d / \d+\.\d", output)


def test_ctrl_c_on_the_driver_stops_every_actor_and_the_report_is_written(
    local_ray: Any, make_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    from loadgen.scale.ray_workers import run_with_ray

    scenario = make_scenario(
        load={"rate": 10, "arrival": "poisson", "duration": "60s", "requests": None},
        emulator={"profiles": {"fixed-model": PROFILE}},
    )
    options = RunOptions(
        out_dir=tmp_path, emulate=True, quiet=True, html=False, console=Console(quiet=True)
    )
    # The driver counts the signal and passes it on through the barrier actor: sent once an
    # actor has measured a few requests (the run is under way), not on a timer.
    with interrupt_when(lambda: _actor_writing_samples(3) is not None):
        result = run_with_ray(scenario, options, None, 2)
    report = result.report
    assert result.exit_code == 130
    assert report["run"]["status"] == "interrupted"
    assert report["run"]["wall_s"] < 60  # stopped: less than its schedule's 60 s
    assert {w["status"] for w in report["run"]["workers"]} == {"interrupted"}
    assert report["models"]["fixed-model"]["requests"]["sent"] > 0


def _actor_writing_samples(min_lines: int) -> tuple[int, Path] | None:
    """The pid and scratch folder of a process (an actor) with a loadgen-ray-*/samples.jsonl
    of `min_lines` lines or more open: an actor mid-run."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (proc / "fd").iterdir():
                with contextlib.suppress(OSError):
                    path = Path(os.readlink(fd))
                    ours = path.name == "samples.jsonl" and path.parent.name.startswith(
                        "loadgen-ray-"
                    )
                    if ours and len(path.read_bytes().splitlines()) >= min_lines:
                        return int(proc.name), path.parent
    return None


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="finds the actor through /proc")
def test_an_actor_that_dies_is_reported_as_died_not_as_an_interrupt(
    local_ray: Any, make_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    from loadgen.scale.ray_workers import run_with_ray

    scenario = make_scenario(
        load={"rate": 10, "arrival": "constant", "duration": "120s", "requests": None},
        emulator={"profiles": {"fixed-model": PROFILE}},
    )
    options = RunOptions(
        out_dir=tmp_path, emulate=True, quiet=True, html=False, console=Console(quiet=True)
    )
    killed: list[int] = []

    def kill_an_actor_mid_run() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            found = _actor_writing_samples(5)
            if found is not None:
                os.kill(found[0], signal.SIGKILL)
                killed.append(found[0])
                shutil.rmtree(found[1], ignore_errors=True)  # it cannot clean up after itself
                return
            time.sleep(0.2)

    killer = threading.Thread(target=kill_an_actor_mid_run, daemon=True)
    killer.start()
    result = run_with_ray(scenario, options, None, 2)
    killer.join()
    assert killed, "no actor was found mid-run"
    report = result.report
    assert result.exit_code == 7
    assert report["run"]["status"] == "aborted"
    reason = report["run"]["status_reason"] or ""
    found = re.fullmatch(
        r"actor ([01]) died \((\w+)\) on node (\w{8}) \([^)]+\) at \d+\.\d s; "
        r"its (\d+) samples so far are merged",
        reason,
    )
    assert found, reason
    assert found[2] in ("ActorDiedError", "RayActorError", "ActorUnavailableError"), reason
    dead = int(found[1])
    workers = report["run"]["workers"]
    assert {w["node"]["id"][:8] for w in workers} == {found[3]}  # one node: a local Ray
    # What it had sent to the driver before it died is merged: a prefix of its share
    # (constant arrivals, equal answer times: its requests ended in the order of their ids).
    sent = [
        json.loads(line) for line in (tmp_path / "workers" / str(dead) / "samples.jsonl").open()
    ]
    assert len(sent) == int(found[4]) > 0
    assert [s["request_id"] for s in sent] == [dead + 2 * j for j in range(len(sent))]
    # The other actor was stopped (as Ctrl-C stops it), well before the 120 s were up.
    survivor = 1 - dead
    assert [(w["worker"], w["status"]) for w in workers] == sorted(
        [(survivor, "interrupted"), (dead, "aborted")]
    )
    assert report["run"]["wall_s"] < 100
    assert report["models"]["fixed-model"]["requests"]["sent"] > 0


def test_the_wall_clock_start_becomes_the_same_instant_on_each_monotonic_clock() -> None:
    from loadgen.scale.ray_workers import local_instant

    # Two processes read their clocks at the same moment (epoch 1_000 s): one's perf_counter
    # says 5 s, the other's 70 s. A start 200 ms later is 200 ms ahead on both.
    start = 1_000_200_000_000
    assert local_instant(start, 5_000_000_000, 1_000_000_000_000) == 5_200_000_000
    assert local_instant(start, 70_000_000_000, 1_000_000_000_000) == 70_200_000_000
    # Read 30 ms later, the instant is 170 ms ahead: the same instant.
    assert local_instant(start, 5_030_000_000, 1_000_030_000_000) == 5_200_000_000


async def test_the_barrier_starts_everyone_together_or_calls_the_start_off() -> None:
    import asyncio

    from loadgen.scale.ray_barrier import StartBarrier
    from loadgen.scale.workers import START_LEAD_NS

    barrier = StartBarrier(2)
    first = asyncio.create_task(barrier.ready_and_wait())
    await asyncio.sleep(0.05)
    assert not first.done()  # waits for the second share
    before = time.time_ns()
    second = await barrier.ready_and_wait()
    assert await first == second and second is not None
    assert before + START_LEAD_NS <= second <= time.time_ns() + START_LEAD_NS
    assert barrier.call_off() is False  # too late: started
    assert barrier.request_stop() is False and barrier.stops() == 1

    called_off = StartBarrier(2)
    waiting = asyncio.create_task(called_off.ready_and_wait())
    await asyncio.sleep(0.01)
    assert called_off.request_stop() is True  # Ctrl-C before the start
    assert await waiting is None


@pytest.mark.skipif(not RAY_INSTALLED, reason="needs ray")
@pytest.mark.skipif("RAY_ADDRESS" in os.environ, reason="a Ray cluster is configured here")
def test_an_address_without_a_cluster_is_a_clear_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "s.yaml"
    path.write_text(
        "name: s\nmodels: [m]\nprompt: {template: hi}\ndataset: {rows: [{x: 1}]}\n"
        "load: {rate: 1, requests: 1}\ncost: {allow_unpriced: true}\n"
    )
    # A process of its own: this one's local Ray is already connected. (`auto` would find
    # this module's local Ray; nothing listens on port 1; without ray[client] the error says
    # to install it.)
    loadgen = Path(sys.executable).parent / "loadgen"
    address = "ray://127.0.0.1:1"
    outcome = subprocess.run(
        [str(loadgen), "run", str(path), f"--ray={address}", "--emulate"],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=tmp_path,
    )
    assert outcome.returncode == 2, outcome.stderr
    assert f"--ray {address}: cannot connect" in outcome.stdout + outcome.stderr
    assert "Traceback" not in outcome.stderr
