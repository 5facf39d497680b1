"""A run's output folder, through the real CLI: one that holds a run is refused unless --force,
and a folder being written is locked, so that a second run into it stops at once, naming the
first; the lock goes with its process, however that ends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.run.out_folder import LOCK_FILE, release_out_dir
from loadgen.run.setup import prepare_out_dir
from tests.helpers import REPO, loadgen

PROFILE = {"ttft_ms": 20, "itl_ms": 2, "output_tokens": 5, "tokens_per_delta": 1}
REFUSED = "already holds a run ({found}); pass --force to overwrite it, or --out a new folder"


def _scenario(tmp_path: Path, **changes: Any) -> Path:
    data: dict[str, Any] = {
        "name": "out-folder",
        "models": ["fixed-model"],
        "prompt": {"template": "Summarise: {body}"},
        "dataset": {"rows": [{"id": f"r{i}", "body": "word " * (10 + i)} for i in range(5)]},
        "inference": {"max_tokens": 20},
        "load": {"rate": 20, "arrival": "constant", "requests": 6},
        "cost": {"allow_unpriced": True},
        "emulator": {"seed": 1, "profiles": {"fixed-model": PROFILE}},
        "seed": 1,
        **changes,
    }
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _refused(completed: subprocess.CompletedProcess[str], folder: Path, found: str) -> None:
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert f"error: {folder} {REFUSED.format(found=found)}" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_an_out_folder_that_holds_a_run_is_refused_unless_forced(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path)
    out = tmp_path / "out"
    out.mkdir()  # an empty folder holds no run
    first = loadgen("run", str(scenario), "--emulate", "--quiet", "--out", str(out))
    assert first.returncode == 0, first.stderr
    written = (out / "report.json").read_bytes()

    again = loadgen("run", str(scenario), "--emulate", "--quiet", "--out", str(out))
    _refused(again, out, "report.json")
    assert (out / "report.json").read_bytes() == written  # nothing lost

    forced = loadgen("run", str(scenario), "--emulate", "--quiet", "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    before, after = json.loads(written), json.loads((out / "report.json").read_text())
    assert after["run"]["started_at"] > before["run"]["started_at"]  # the new run's report


@pytest.mark.parametrize(
    "left_behind",
    ["samples.jsonl", "workers/1/samples.jsonl", "fixed-model/rate-2/report.json", "sweep.json"],
)
def test_what_a_stopped_run_or_sweep_left_counts_as_a_run(tmp_path: Path, left_behind: str) -> None:
    out = tmp_path / "out"
    (out / left_behind).parent.mkdir(parents=True)
    (out / left_behind).write_text("{}\n")
    scenario = _scenario(tmp_path)
    for command in ("run", "sweep"):
        _refused(loadgen(command, str(scenario), "--emulate", "--out", str(out)), out, left_behind)
    assert sorted(p.name for p in out.iterdir()) == sorted([LOCK_FILE, left_behind.split("/")[0]])


@pytest.fixture
def emulator() -> Iterator[str]:
    """An emulator of the test's own: a run killed outright leaves no emulator of its own."""
    config = EmulatorConfig.model_validate({"seed": 1, "profiles": {"fixed-model": PROFILE}})
    with EmulatorProcess(config) as process:
        yield process.url


def test_a_second_run_into_a_folder_being_written_stops_at_once_naming_the_first(
    tmp_path: Path, emulator: str, aws_env: dict[str, str]
) -> None:
    scenario = _scenario(tmp_path, load={"rate": 5, "arrival": "constant", "duration": "60s"})
    out = tmp_path / "out"
    flags = ["--endpoint-url", emulator, "--quiet", "--out", str(out)]
    first = subprocess.Popen(
        [sys.executable, "-m", "loadgen.cli", "run", str(scenario), *flags],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        samples = out / "samples.jsonl"
        while not (samples.is_file() and samples.read_text().count("\n") >= 2):
            assert first.poll() is None, first.communicate()[1]
            assert time.monotonic() < deadline, "the first run never started sending"
            time.sleep(0.1)
        assert (out / LOCK_FILE).read_text().split() == [str(first.pid)]

        second = loadgen("run", str(scenario), *flags, "--force")  # --force does not pass a lock
        assert second.returncode == 2, second.stderr
        assert (
            f"error: {out} is being written by another loadgen run (pid {first.pid}); wait for "
            "it to end (or stop it), or --out a new folder"
        ) in second.stderr
        assert "Traceback" not in second.stderr
        # At once, not after waiting for the lock: the first (a 60 s schedule) is still running.
        assert first.poll() is None

        first.send_signal(signal.SIGKILL)  # a crash: no chance to clean up
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    # The kernel released the lock with the process; what it wrote is kept unless --force.
    _refused(loadgen("run", str(scenario), *flags), out, "samples.jsonl")
    forced = loadgen("run", str(scenario), *flags, "--force", "--requests", "4")
    assert forced.returncode == 0, forced.stderr
    assert (
        json.loads((out / "report.json").read_text())["models"]["fixed-model"]["requests"]["sent"]
        == 4
    )
    assert (out / LOCK_FILE).read_text().split() != [str(first.pid)]


def test_a_sweep_into_a_folder_another_process_holds_stops_naming_it(tmp_path: Path) -> None:
    out = tmp_path / "held"
    prepare_out_dir(out, "holder")  # made and locked: this process holds it until released
    scenario = _scenario(tmp_path)
    completed = loadgen("sweep", str(scenario), "--emulate", "--out", str(out))
    assert completed.returncode == 2
    assert f"{out} is being written by another loadgen run (pid {os.getpid()})" in (
        completed.stderr
    )
    assert "Traceback" not in completed.stderr
    assert not (out / "sweep.json").exists()

    release_out_dir(out)  # the lock file stays behind, unlocked: it holds nobody back
    assert (out / LOCK_FILE).is_file()
    ran = loadgen("run", str(scenario), "--emulate", "--quiet", "--out", str(out))
    assert ran.returncode == 0, ran.stderr
    assert (out / LOCK_FILE).read_text().split() != [str(os.getpid())]


def test_a_sweep_writes_over_an_earlier_sweep_with_force(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path)
    out = tmp_path / "out"
    # One stage of 1 s: the 5 requests it offers are enough to overwrite (100, the default
    # minimum, would stretch it to 20 s, twice over).
    flags = ["--emulate", "--out", str(out), "--rates", "5", "--stage-duration", "1s"]
    flags += ["--stage-warmup", "0s", "--min-stage-requests", "5", "--quiet"]
    assert loadgen("sweep", str(scenario), *flags).returncode == 0
    first = json.loads((out / "sweep.json").read_text())["sweep"]
    _refused(loadgen("sweep", str(scenario), *flags), out, "sweep.json")
    forced = loadgen("sweep", str(scenario), *flags, "--force")
    assert forced.returncode == 0, forced.stderr
    second = json.loads((out / "sweep.json").read_text())["sweep"]
    assert second["started_at"] > first["started_at"]
    stage = second["models"]["fixed-model"]["stages"][0]
    assert Path(stage["out_dir"]) == out / "fixed-model" / "rate-5"


def test_workers_lock_their_own_folders_under_the_parents(tmp_path: Path) -> None:
    out = tmp_path / "out"
    scenario = _scenario(tmp_path, load={"rate": 20, "arrival": "constant", "requests": 8})
    flags = ["--emulate", "--quiet", "--no-html", "--out", str(out), "--workers", "2"]
    completed = loadgen("run", str(scenario), *flags)
    assert completed.returncode == 0, completed.stderr
    assert (
        json.loads((out / "report.json").read_text())["models"]["fixed-model"]["requests"]["sent"]
        == 8
    )
    holders = [
        (folder / LOCK_FILE).read_text().strip()
        for folder in (out, out / "workers/0", out / "workers/1")
    ]
    assert len(set(holders)) == 3  # the parent and each worker: one lock each, no clash


def test_default_out_folders_are_new_even_within_one_second(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    now = datetime.now(UTC)
    stamps = [(now + timedelta(seconds=s)).strftime("%Y%m%dT%H%M%SZ") for s in (0, 1)]
    for stamp in stamps:  # the names this second and the next would take are taken
        (tmp_path / "reports" / f"s-{stamp}").mkdir(parents=True)
    folder = prepare_out_dir(None, "s")
    assert folder.name in {f"s-{stamp}-2" for stamp in stamps}
    assert folder.is_dir() and [p.name for p in folder.iterdir()] == [LOCK_FILE]
    assert prepare_out_dir(None, "s") != folder
