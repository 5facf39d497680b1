"""A closed-loop run through `loadgen run`, counted three ways that must agree: the emulator's own
request log, samples.jsonl, and what report.json and the console say was sent (warmup apart,
and said). The scheduling rules in virtual time: tests/unit/engine/test_closed_loop.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadgen.emulator import EmulatorConfig, EmulatorProcess
from tests.emulator_log import EmulatorLog
from tests.helpers import loadgen
from tests.unit.config.test_load_models import BASE

MODEL = "quick-model"
TOKENS = BASE["emulator"]["profiles"][MODEL]["output_tokens"]  # preflight probes ask for 1


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator") / "requests.jsonl"


@pytest.fixture(scope="module")
def emulator(log_path: Path) -> Iterator[EmulatorProcess]:
    config = EmulatorConfig.model_validate(BASE["emulator"])
    with EmulatorProcess(config, log_path=log_path) as process:
        yield process


def _run(
    tmp_path: Path, emulator: EmulatorProcess, aws_env: dict[str, str], load: dict[str, Any]
) -> tuple[Any, dict[str, Any], list[dict[str, Any]]]:
    scenario = tmp_path / "closed.yaml"
    data = {**BASE, "load": load, "target": {"endpoint_url": emulator.url}}
    scenario.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    completed = loadgen("run", str(scenario), "--out", str(out), "--no-html", env=aws_env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads((out / "report.json").read_text())
    lines = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    return completed, report, lines


def _console_sent(stdout: str) -> int:
    """The summary table's `sent` for the model: its first row, before any other table's."""
    row = next(line for line in stdout.splitlines() if re.match(rf"^{MODEL}\s+\d", line))
    return int(row.split()[1].replace(",", ""))


@pytest.mark.parametrize("warmup_s", [0.0, 0.4])
def test_every_request_sent_is_in_the_log_the_samples_and_the_counts(
    tmp_path: Path,
    emulator: EmulatorProcess,
    log_path: Path,
    aws_env: dict[str, str],
    warmup_s: float,
) -> None:
    log = EmulatorLog(log_path, emulator.stats)
    mark = log.mark()
    load = {"concurrency": 4, "duration": "1.2s", "warmup": f"{warmup_s}s"}
    completed, report, samples = _run(tmp_path, emulator, aws_env, load)
    received = log.lines(mark, model=MODEL, output_tokens=TOKENS, outcome=None)
    run = report["run"]
    sent = report["models"][MODEL]["requests"]["sent"]
    warmup = run["warmup_requests"]
    # The emulator answered exactly the requests the run wrote down: none went unrecorded.
    assert len(samples) == len(received) == run["generator"]["dispatched"]
    # None left before t0: every instant of every line is at or after the run's origin.
    assert min(s["intended_us"] for s in samples) == 0
    assert min(s["dispatch_us"] for s in samples) >= 0
    # Warmup by the documented rule only (intended in the first warmup_s), and counted.
    assert warmup == sum(s["warmup"] for s in samples)
    assert all(s["warmup"] == (s["intended_us"] < warmup_s * 1e6) for s in samples)
    assert sent + warmup == len(samples)
    assert _console_sent(completed.stdout) == sent
    if warmup_s:
        assert warmup > 0
        assert f"warmup: {warmup} requests" in completed.stdout
    else:
        assert warmup == 0 and "warmup:" not in completed.stdout
    # The report describes the load model that ran: users, no rate or arrival.
    assert run["load"]["loop"] == "closed" and run["load"]["concurrency"] == 4
    assert "rate" not in run["load"] and "arrival" not in run["load"]
