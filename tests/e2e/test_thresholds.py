"""`loadgen run` exiting 99 when a threshold fails, and the report saying which. The check
language itself: tests/unit/config/test_thresholds.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.helpers import REPO, loadgen


def _scenario_with(tmp_path: Path, thresholds: list[str]) -> Path:
    data = yaml.safe_load((REPO / "scenarios" / "email_summary.yaml").read_text())
    data["dataset"]["path"] = str(REPO / "scenarios" / "data" / "emails.jsonl")
    data["models"] = ["quick-model"]
    data["cost"] = {"allow_unpriced": True}
    data["emulator"] = {
        "profiles": {"quick-model": {"ttft_ms": 60, "itl_ms": 5, "output_tokens": 8}}
    }
    data["thresholds"] = thresholds
    path = tmp_path / "thresholds.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("thresholds", "exit_code"),
    [
        (["ttft.p50 < 10s", "error_rate < 1%"], 0),
        (["ttft.p50 < 10s", "ttft.p50 < 20ms"], 99),  # the emulator's TTFT is 60 ms
    ],
)
def test_a_failed_threshold_exits_99_and_is_in_the_report(
    tmp_path: Path, thresholds: list[str], exit_code: int
) -> None:
    out = tmp_path / "out"
    completed = loadgen(
        "run",
        str(_scenario_with(tmp_path, thresholds)),
        "--requests",
        "6",
        "--rps",
        "10",
        "--emulate",
        "--out",
        str(out),
    )
    assert completed.returncode == exit_code, completed.stderr
    section = json.loads((out / "report.json").read_text())["thresholds"]
    assert [r["check"] for r in section["results"]] == thresholds
    measured = section["results"][1]["measured"]
    assert measured is not None
    assert section["passed"] is (exit_code == 0)
    assert ("FAIL" in completed.stdout) is (exit_code == 99)


def test_a_threshold_for_one_model_judges_that_model_only(tmp_path: Path) -> None:
    path = _scenario_with(tmp_path, [])
    data = yaml.safe_load(path.read_text())
    data["models"] = ["quick-model", "slow-model"]
    data["emulator"]["profiles"]["slow-model"] = {"ttft_ms": 200, "itl_ms": 5, "output_tokens": 8}
    data["thresholds"] = [
        "error_rate < 1%",  # every model, each on its own
        {"check": "ttft.p50 < 150ms", "model": "quick-model"},  # passes: 60 ms
    ]
    path.write_text(yaml.safe_dump(data))
    out = tmp_path / "out"
    args = ["run", str(path), "--requests", "6", "--rps", "10", "--emulate", "--out", str(out)]
    completed = loadgen(*args)
    assert completed.returncode == 0, completed.stderr
    results = json.loads((out / "report.json").read_text())["thresholds"]["results"]
    assert [(r["check"], r["model"]) for r in results] == [
        ("error_rate < 1%", "quick-model"),
        ("error_rate < 1%", "slow-model"),
        ("ttft.p50 < 150ms", "quick-model"),
    ]
    # The same check on the slow model fails the run.
    data["thresholds"][1]["model"] = "slow-model"
    path.write_text(yaml.safe_dump(data))
    assert loadgen(*args, "--force").returncode == 99  # the same folder again
