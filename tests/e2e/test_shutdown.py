"""One shutdown path: a signal or a failed write in each phase of a run, through the real CLI.

The endpoint is an emulator the test starts itself: every request that reached it (its own
count) must be in samples.jsonl, answered, failed or cancelled, whatever stopped the run.
Phases are found from the emulator's count (a request has arrived), not from sleeps.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadgen.emulator import EmulatorConfig, EmulatorProcess
from tests.helpers import REPO

SLOW = "slow-model"  # a first token after 30 s: requests stay in flight until the run stops
FAST = "fast-model"
PROFILES = {
    SLOW: {"ttft_ms": 30000, "itl_ms": 10, "output_tokens": 5},
    FAST: {"ttft_ms": 20, "itl_ms": 2, "output_tokens": 30, "tokens_per_delta": 1},
}


@pytest.fixture
def emulator() -> Iterator[str]:
    config = EmulatorConfig.model_validate({"profiles": PROFILES})
    with EmulatorProcess(config) as process:
        yield process.url


def scenario(tmp_path: Path, model: str, url: str, **load: Any) -> Path:
    data = {
        "name": "shutdown",
        "models": [model],
        "target": {"endpoint_url": url, "region": "us-east-1"},
        "prompt": {"template": "Summarise: {body}"},
        "dataset": {"rows": [{"id": f"r{i}", "body": "word " * 20} for i in range(5)]},
        "inference": {"max_tokens": 50},
        "load": {"rate": 10, "arrival": "constant", "duration": "60s", **load},
        "cost": {"allow_unpriced": True},
        "seed": 1,
    }
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def start(path: Path, out: Path, *args: str, env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "loadgen.cli", "run", str(path), "--out", str(out), *args],
        cwd=REPO,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def received(url: str) -> int:
    """How many requests the emulator has received so far (its own count, at arrival)."""
    with urllib.request.urlopen(f"{url}/_emulator/stats", timeout=5) as response:
        count: int = json.load(response)["requests"]
    return count


def wait_until(condition: Any, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "the run never reached the expected point"
        time.sleep(0.05)


def finished(process: subprocess.Popen[str], timeout_s: float = 60) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=timeout_s)
    assert "Traceback" not in stderr, stderr
    return process.returncode, stderr


def read_run(out: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    report = json.loads((out / "report.json").read_text())
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    return report, samples


def totals(report: dict[str, Any], key: str) -> int:
    return sum(m["requests"][key] for m in report["models"].values())


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_load_writes_the_report_and_books_every_request(
    signum: signal.Signals,
    emulator: str,
    aws_env: dict[str, str],
    tmp_path: Path,
) -> None:
    url = emulator
    out = tmp_path / "out"
    process = start(
        scenario(tmp_path, FAST, url), out, "--skip-preflight", "--grace", "5", env=aws_env
    )
    wait_until(lambda: received(url) >= 5)
    process.send_signal(signum)
    code, stderr = finished(process)
    assert code == 130, stderr
    report, samples = read_run(out)
    assert report["run"]["status"] == "interrupted"
    assert report["run"]["status_reason"] == f"stopped by {signum.name}"
    assert report["run"]["stopped_in"] in ("load", "drain")
    # Every request that reached the endpoint is booked: answered, failed or cancelled.
    assert len(samples) == received(url)
    assert totals(report, "sent") + totals(report, "cancelled") == len(samples)


def test_a_second_signal_books_what_was_in_flight_as_cancelled(
    emulator: str, aws_env: dict[str, str], tmp_path: Path
) -> None:
    url = emulator
    out = tmp_path / "out"
    process = start(
        scenario(tmp_path, SLOW, url), out, "--skip-preflight", "--grace", "120", env=aws_env
    )
    wait_until(lambda: received(url) >= 4)
    process.send_signal(signal.SIGINT)
    time.sleep(1.0)  # two signals sent at once could be delivered as one
    process.send_signal(signal.SIGINT)
    code, stderr = finished(process, timeout_s=100)  # well under the 120 s grace it must cut
    assert code == 130, stderr
    report, samples = read_run(out)
    reached = received(url)
    assert len(samples) == reached >= 4
    assert {s["outcome"] for s in samples} == {"cancelled"}
    assert all(s["send_us"] is not None for s in samples)  # what was measured is kept
    assert totals(report, "cancelled") == reached == report["run"]["generator"]["cancelled"]
    assert report["run"]["generator"]["dispatched"] == reached


def test_a_signal_during_preflight_writes_an_empty_report(
    emulator: str, aws_env: dict[str, str], tmp_path: Path
) -> None:
    url = emulator
    out = tmp_path / "out"
    process = start(scenario(tmp_path, SLOW, url), out, env=aws_env)
    wait_until(lambda: received(url) >= 1)  # the preflight call, held 30 s
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    code, stderr = finished(process, timeout_s=30)
    assert time.monotonic() - started < 25, "the preflight call (held 30 s) was not cut short"
    assert code == 130, stderr
    report, samples = read_run(out)
    assert report["run"]["status"] == "interrupted"
    assert report["run"]["stopped_in"] == "preflight"
    assert samples == []
    assert report["run"]["generator"]["dispatched"] == 0


def test_a_full_disk_stops_the_run_with_its_own_exit_code(
    emulator: str, aws_env: dict[str, str], tmp_path: Path
) -> None:
    url = emulator
    out = tmp_path / "small-disk"
    out.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(out)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        process = start(
            scenario(tmp_path, FAST, url, rate=100),
            out,
            "--skip-preflight",
            "--no-html",
            env=aws_env,
        )
        code, stderr = finished(process, timeout_s=90)
        assert code == 6, stderr
        assert "No space left on device" in stderr
        lines = (out / "samples.jsonl").read_text().splitlines()
        assert lines and all(json.loads(line) for line in lines)  # no torn last line
        written = out / "report.json"
        if not written.exists():  # the full folder did not take it: the message says where
            match = re.search(r"the report is in (\S+\.json)", stderr)
            assert match, stderr
            written = Path(match.group(1))
        report = json.loads(written.read_text())
        assert report["run"]["status"] == "failed"
        assert "samples.jsonl could not be written" in report["run"]["status_reason"]
        assert totals(report, "sent") + totals(report, "cancelled") >= len(lines)
    finally:
        subprocess.run(["umount", str(out)], check=False)


def test_emf_to_a_full_device_stops_with_exit_6_and_keeps_the_report(
    emulator: str, aws_env: dict[str, str], tmp_path: Path
) -> None:
    url = emulator
    out = tmp_path / "out"
    process = start(
        scenario(tmp_path, FAST, url, duration="2s"),
        out,
        "--skip-preflight",
        "--no-html",
        "--emf",
        "/dev/full",
        env=aws_env,
    )
    code, stderr = finished(process)
    assert code == 6, stderr
    report, samples = read_run(out)
    assert report["run"]["status"] == "failed"
    assert "EMF lines could not be written to /dev/full" in report["run"]["status_reason"]
    assert totals(report, "sent") == len(samples) > 0


def test_emf_into_a_missing_folder_is_refused_before_anything_is_sent(
    emulator: str, aws_env: dict[str, str], tmp_path: Path
) -> None:
    url = emulator
    process = start(
        scenario(tmp_path, FAST, url, duration="2s"),
        tmp_path / "out",
        "--emf",
        str(tmp_path / "missing" / "emf.jsonl"),
        env=aws_env,
    )
    code, stderr = finished(process)
    assert code == 2, stderr
    assert "does not exist" in stderr
    assert received(url) == 0  # refused before the preflight call


def test_emf_to_a_closed_pipe_ends_cleanly(
    emulator: str, aws_env: dict[str, str], tmp_path: Path
) -> None:
    url = emulator
    out = tmp_path / "out"
    command = (
        f"{sys.executable} -m loadgen.cli run {scenario(tmp_path, FAST, url, duration='2s')} "
        f"--out {out} --skip-preflight --no-html --emf - | head -c 0"
    )
    completed = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command}"],
        cwd=REPO,
        env={**os.environ, **aws_env},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert "Traceback" not in completed.stderr, completed.stderr
    assert "BrokenPipeError" not in completed.stderr
    report, samples = read_run(out)
    assert report["run"]["status"] == "failed"
    assert "EMF lines could not be written to stdout" in report["run"]["status_reason"]
    assert totals(report, "sent") == len(samples) > 0
    assert completed.returncode == 6, completed.stderr
