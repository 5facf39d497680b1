"""`loadgen` as a user runs it: a real process, real exit codes, real files."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import FAKE_KEY_ID, FAKE_SECRET
from tests.helpers import GOLDEN_DIR, REPO, loadgen

GOLDEN = GOLDEN_DIR / "report_shape.json"


def shape(value: Any) -> Any:
    """The report's structure with values replaced by their type; maps keyed by data
    (model ids, histogram names) are folded to one representative entry."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return "number|null"  # a figure may be null where nothing was measured
    return type(value).__name__


def report_shape(report: dict[str, Any]) -> Any:
    folded = dict(report)
    first_model = next(iter(report["models"].values()))
    folded["models"] = {"<model id>": first_model}
    series_models = report["timeseries"].get("models") or {}
    if series_models:  # per-model time series, keyed by model id too
        first_series = next(iter(series_models.values()))
        folded["timeseries"] = {**report["timeseries"], "models": {"<model id>": first_series}}
    result = shape(folded)
    result["models"]["<model id>"]["hdr"] = {"<metric>": "str"}
    result["run"]["emulator"] = "dict | null"
    # Empty or not depending on how loaded the machine was.
    result["run"]["generator"]["limited_reasons"] = "list[str]"
    if report.get("verdict"):  # keyed by model id, like "models"
        first_verdict = next(iter(report["verdict"]["models"].values()))
        result["verdict"]["models"] = {"<model id>": shape(first_verdict)}
        # Lists of names that are empty or not depending on the run's figures.
        result["verdict"]["meeting_all"] = "list[str]"
    quality = result["models"]["<model id>"].get("quality")
    if isinstance(quality, dict):
        for entry in quality["worst"]:
            entry["missing_facts"] = entry["missing_sections"] = "list[str]"
    return result


@pytest.fixture
def demo_run(email_summary_run: tuple[Any, Path]) -> tuple[Any, Path]:
    """The documented command's run (tests/conftest.py), shared with test_quality_run.py."""
    return email_summary_run


def test_the_documented_command_writes_both_files(demo_run: tuple[Any, Path]) -> None:
    completed, out = demo_run
    assert completed.returncode == 0, completed.stderr
    report = json.loads((out / "report.json").read_text())
    lines = (out / "samples.jsonl").read_text().splitlines()
    counted = sum(
        m["requests"]["sent"] + m["requests"]["dropped"] for m in report["models"].values()
    )
    assert counted + report["run"]["warmup_requests"] == len(lines)
    assert 30 <= len(lines) <= 75  # Poisson at 5/s for 10 s
    assert set(report["models"]) == {
        "us.amazon.nova-lite-v1:0",
        "us.amazon.nova-pro-v1:0",
        "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
    }
    assert report["run"]["status"] == "completed"
    assert "us.amazon.nova-lite-v1:0" in completed.stdout  # the console table


def test_report_shape_is_pinned(demo_run: tuple[Any, Path]) -> None:
    _, out = demo_run
    actual = report_shape(json.loads((out / "report.json").read_text()))
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(actual, indent=2, sort_keys=True) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert actual == expected, "report shape changed: bump SCHEMA_VERSION, update docs/report.md"


BAD_FILES = {
    "bad-yaml.yaml": ("name: [unclosed\n", "not valid YAML"),
    "unknown-key.yaml": (None, "load.rat: unknown key"),
    "zero-duration.yaml": (None, "load.duration: Input should be greater than 0"),
    "no-dataset.yaml": (None, "dataset.path"),
}


def _bad_scenario(tmp_path: Path, name: str) -> Path:
    import yaml

    text, _ = BAD_FILES[name]
    if text is None:
        data = yaml.safe_load((REPO / "scenarios" / "email_summary.yaml").read_text())
        if name == "unknown-key.yaml":
            data["load"]["rat"] = 5
        elif name == "zero-duration.yaml":
            data["load"]["duration"] = "0s"
        else:
            data["dataset"]["path"] = "nowhere/emails.jsonl"
        text = yaml.safe_dump(data)
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_scenario_files_exit_2_with_the_problem(tmp_path: Path, name: str) -> None:
    completed = loadgen("run", str(_bad_scenario(tmp_path, name)), "--emulate")
    assert completed.returncode == 2, completed.stderr
    assert BAD_FILES[name][1] in completed.stderr
    assert "Traceback" not in completed.stderr


def test_no_credentials_gives_one_clear_message(no_aws_env: dict[str, str]) -> None:
    completed = loadgen(
        "run",
        "scenarios/email_summary.yaml",
        "--duration",
        "1s",
        "--out",
        "/tmp/x",
        env=no_aws_env,
    )
    assert completed.returncode == 2
    assert "no AWS credentials found" in completed.stderr and "--emulate" in completed.stderr
    assert "Traceback" not in completed.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing.yaml", "--emulate"], "no such file"),
        (["run", "scenarios/email_summary.yaml", "--rps", "0", "--emulate"], "--rps:"),
        (["run", "scenarios/email_summary.yaml", "--duration", "ten", "--emulate"], "--duration:"),
        (
            ["run", "scenarios/email_summary.yaml", "--endpoint-url", "localhost:99"],
            "--endpoint-url:",
        ),
        (["run", "scenarios/email_summary.yaml", "--rps", "x"], "Invalid value for '--rps'"),
        (
            ["run", "scenarios/email_summary.yaml", "--model", "made.up-model", "--emulate"],
            "no price is known for made.up-model",
        ),
        (["run", "scenarios/email_summary.yaml", "--max-cost", "-1", "--emulate"], "--max-cost:"),
        (["run", "scenarios/email_summary.yaml", "--max-cost", "inf", "--emulate"], "--max-cost:"),
        (["run", "scenarios/email_summary.yaml", "--seed", "-1", "--emulate"], "--seed:"),
        (["run", "scenarios/email_summary.yaml", "--api", "bedrock-chat", "--emulate"], "--api:"),
        (["run", "scenarios/email_summary.yaml", "--duration", "inf", "--emulate"], "--duration:"),
        (["run", "scenarios/email_summary.yaml", "--rps", "1e-300", "--emulate"], "--rps:"),
    ],
)
def test_bad_input_exits_2_without_traceback(args: list[str], message: str) -> None:
    completed = loadgen(*args)
    assert completed.returncode == 2, completed.stderr
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


def test_sigint_writes_a_valid_report_with_every_completed_request(tmp_path: Path) -> None:
    # The quickest of the study's models: what is in flight at the signal drains in about a
    # second and a half, not the four or five of the slowest.
    process = start_run(
        "scenarios/email_summary.yaml",
        "--model",
        "us.amazon.nova-lite-v1:0",
        "--rps",
        "10",
        "--duration",
        "60s",
        "--emulate",
        "--grace",
        "5",
        "--out",
        str(tmp_path),
    )
    samples = tmp_path / "samples.jsonl"
    _wait_for_lines(samples, 10)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["status"] == "interrupted"
    lines = [json.loads(line) for line in samples.read_text().splitlines()]
    sent = sum(m["requests"]["sent"] for m in report["models"].values())
    assert sent == len(lines) >= 10
    assert "interrupted" in (tmp_path / "report.html").read_text()  # the page is written too


def start_run(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """`loadgen run ...` in the background, as a user's shell would start it."""
    return subprocess.Popen(
        [sys.executable, "-m", "loadgen.cli", "run", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=None if env is None else {**os.environ, **env},
    )


def _wait_for_progress(process: subprocess.Popen[str], pattern: str) -> None:
    """Until the run's progress line (piped: one every LOADGEN_PROGRESS_EVERY seconds) matches
    `pattern`; fails if the run ends first."""
    assert process.stdout is not None
    for line in process.stdout:
        if re.search(pattern, line):
            return
    raise AssertionError(f"the run ended before its progress showed {pattern!r}")


def _wait_for_lines(path: Path, count: int, timeout_s: float = 30) -> None:
    """Until a running loadgen has written `count` samples (or the timeout)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"{path} did not reach {count} lines in {timeout_s:g} s")


def test_emulate_command_serves_until_terminated() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "loadgen.cli", "emulate", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("loadgen emulator listening on http://127.0.0.1:")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0


def test_secrets_stay_out_of_outputs(aws_env: dict[str, str], tmp_path: Path) -> None:
    # A closed port: the requests fail (connection), and so does the preflight; neither the
    # report, the samples nor the messages may carry the credentials.
    completed = loadgen(
        "run",
        "scenarios/email_summary.yaml",
        "--requests",
        "3",
        "--rps",
        "20",
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--out",
        str(tmp_path),
        "--skip-preflight",
        env=aws_env,
    )
    assert completed.returncode == 0, completed.stderr
    report = (tmp_path / "report.json").read_text()
    errors = json.loads(report)["models"]["us.amazon.nova-lite-v1:0"]["requests"]["errors"]
    assert errors["connection"] == 1
    preflight = loadgen(
        "run",
        "scenarios/email_summary.yaml",
        "--requests",
        "3",
        "--endpoint-url",
        "http://127.0.0.1:9",
        "--out",
        str(tmp_path / "p"),
        env=aws_env,
    )
    assert preflight.returncode == 2
    assert "cannot connect to http://127.0.0.1:9" in preflight.stderr
    assert "Traceback" not in preflight.stderr
    texts = [
        report,
        (tmp_path / "samples.jsonl").read_text(),
        completed.stdout,
        completed.stderr,
        preflight.stdout,
        preflight.stderr,
    ]
    for text in texts:
        assert FAKE_SECRET not in text and FAKE_KEY_ID not in text


def test_second_sigint_cuts_the_grace_period_short(tmp_path: Path) -> None:
    # A slow model and a long grace period: only the second signal can end the run quickly.
    process = start_run(
        "scenarios/email_summary.yaml",
        "--model",
        "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "--rps",
        "10",
        "--duration",
        "60s",
        "--emulate",
        "--grace",
        "120",
        "--out",
        str(tmp_path),
    )
    samples = tmp_path / "samples.jsonl"
    _wait_for_lines(samples, 3)
    process.send_signal(signal.SIGINT)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    assert time.monotonic() - started < 15, "the second SIGINT did not cut the grace period"
    assert process.returncode == 130, stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["run"]["status"] == "interrupted"
    assert report["run"]["generator"]["cancelled"] > 0
    lines = [json.loads(line) for line in samples.read_text().splitlines()]
    sent = sum(m["requests"]["sent"] for m in report["models"].values())
    cancelled = sum(m["requests"]["cancelled"] for m in report["models"].values())
    # What was in flight is booked as cancelled, in samples.jsonl too: nothing vanishes.
    assert cancelled == report["run"]["generator"]["cancelled"]
    assert sent + cancelled == len(lines)
    assert sum(line["outcome"] == "cancelled" for line in lines) == cancelled


def test_a_signal_during_the_drain_bounds_it_by_the_grace_period(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load((REPO / "scenarios" / "email_summary.yaml").read_text())
    data["dataset"]["path"] = str(REPO / "scenarios" / "data" / "emails.jsonl")
    data["models"] = ["slow-model"]
    data["cost"] = {"allow_unpriced": True}
    data["emulator"] = {"profiles": {"slow-model": {"ttft_ms": 30000, "output_tokens": 5}}}
    scenario = tmp_path / "slow.yaml"
    scenario.write_text(yaml.safe_dump(data))
    process = start_run(
        str(scenario),
        "--requests",
        "3",
        "--rps",
        "10",
        "--emulate",
        "--skip-preflight",
        "--grace",
        "1",
        "--out",
        str(tmp_path / "out"),
        env={"LOADGEN_PROGRESS_EVERY": "0.2"},
    )
    # All three sent and in flight: the run now waits for 30-second answers.
    _wait_for_progress(process, r"sent 3, in flight 3")
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    _, stderr = process.communicate(timeout=30)
    assert time.monotonic() - started < 10, "the grace period did not bound the drain"
    assert process.returncode == 130, stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["run"]["status"] == "interrupted"
    assert report["run"]["generator"]["cancelled"] == 3
