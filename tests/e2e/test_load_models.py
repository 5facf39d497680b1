"""Load models from the scenario to the report, through `loadgen run --emulate`: closed loop,
ramp, stages. What the scenario accepts: tests/unit/config/test_load_models.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import loadgen
from tests.unit.config.test_load_models import BASE


def _scenario(tmp_path: Path, load: dict[str, Any]) -> Path:
    path = tmp_path / "loads.yaml"
    path.write_text(yaml.safe_dump({**BASE, "load": load}))
    return path


def _samples(out: Path) -> list[dict[str, Any]]:
    lines = (out / "samples.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def test_closed_loop_end_to_end_holds_n_in_flight_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "out"
    scenario = _scenario(tmp_path, {"rate": 5, "duration": "2s"})
    completed = loadgen(
        "run", str(scenario), "--concurrency", "2", "--duration", "1.5s", "--emulate",
        "--out", str(out), env={"LOADGEN_PROGRESS": "1"},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert "rate: closed loop, achieved" in completed.stdout  # the live view has no target
    report = json.loads((out / "report.json").read_text())
    load = report["run"]["load"]
    assert (load["loop"], load["concurrency"], load["think_time"]) == ("closed", 2, 0.0)
    assert not {"rate", "arrival", "rate_shape"} & load.keys()  # none of them ran
    assert "schedule lag" in load["note"]
    assert report["run"]["generator"]["target_rps"] is None
    assert "closed loop, 2 users" in completed.stdout
    # 2 users / ~100 ms service time: about 20 req/s, never more than 2 requests at once.
    # Never more: the emulator does not answer early. About: by Little's law against the
    # service time this run measured (a busy machine lengthens it, and the rate follows), not
    # against the profile's 100 ms: both users were kept busy all along.
    achieved = report["run"]["generator"]["achieved_rps"]
    samples = _samples(out)
    service_s = sum(s["end_us"] - s["dispatch_us"] for s in samples) / len(samples) / 1e6
    assert achieved <= 21, achieved
    assert achieved * service_s == pytest.approx(2, rel=0.2), (achieved, service_s)
    events = sorted([(s["send_us"], 1) for s in samples] + [(s["end_us"], -1) for s in samples])
    level = peak = 0
    for _, step in events:
        level += step
        peak = max(peak, level)
    assert peak == 2


def test_stages_end_to_end_send_each_stages_rate(tmp_path: Path) -> None:
    out = tmp_path / "out"
    load = {
        "arrival": "constant",
        "stages": [{"rate": 10, "duration": "1s"}, {"rate": 30, "duration": "1s"}],
    }
    completed = loadgen("run", str(_scenario(tmp_path, load)), "--emulate", "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["load"]["rate_shape"] == "stages"
    assert report["run"]["generator"]["target_rps"] == pytest.approx(20.0)
    intended = sorted(s["intended_us"] for s in _samples(out))
    first = min(intended)
    per_stage = [
        sum(1 for t in intended if lo <= t - first < hi) for lo, hi in ((0, 1e6), (1e6, 2e6))
    ]
    assert per_stage == [10, 30]


def test_ramp_in_the_report_names_its_shape(tmp_path: Path) -> None:
    out = tmp_path / "out"
    load = {"ramp": {"from": 5, "to": 25}, "duration": "1s", "arrival": "constant"}
    completed = loadgen("run", str(_scenario(tmp_path, load)), "--emulate", "--out", str(out))
    assert completed.returncode == 0, completed.stderr
    report = json.loads((out / "report.json").read_text())
    assert report["run"]["load"]["ramp"] == {"from": 5.0, "to": 25.0}
    assert report["run"]["generator"]["target_rps"] == pytest.approx(15.0)
    assert len(_samples(out)) == 15
