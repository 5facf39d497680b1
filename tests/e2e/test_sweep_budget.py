"""`loadgen sweep --max-cost`: one budget for the whole sweep (issue 17, defect 6).

Each stage's own run guards what it was given; the sweep gives each stage only what the stages
before it left, and stops (exit 3) once a stage could not be run within the rest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import loadgen

# USD per 1M tokens: dear enough that a second of load costs cents. A request reads about 25
# tokens and writes 11 (3.6 millicents); its worst case, reserved before it is sent, is its
# prompt's UTF-8 bytes plus 100 framing tokens plus max_tokens, about 23 millicents.
PRICE = 100.0
BUDGET = 0.08
RATES = "4,6,8,10,12"  # 1 s each: about 0.014, 0.022, 0.029, 0.036 and 0.043 USD


def _scenario(tmp_path: Path) -> Path:
    data: dict[str, Any] = {
        "name": "sweep-budget",
        "models": ["slotted-model"],
        "prompt": {"template": "Summarise: {body}"},
        "dataset": {"rows": [{"id": "a", "body": "word " * 20}]},
        "inference": {"max_tokens": 20},
        "load": {"rate": 1, "arrival": "constant", "duration": "1s"},
        "pricing": {"slotted-model": {"input": PRICE, "output": PRICE}},
        "emulator": {
            "profiles": {
                "slotted-model": {"ttft_ms": 50, "itl_ms": 10, "output_tokens": 11},
            }
        },
        "seed": 1,
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_max_cost_bounds_the_whole_sweep_and_stops_it_with_exit_3(tmp_path: Path) -> None:
    out = tmp_path / "out"
    completed = loadgen(
        "sweep", str(_scenario(tmp_path)), "--emulate", "--out", str(out), "--rates", RATES,
        "--stage-duration", "1s", "--stage-warmup", "0s", "--min-stage-requests", "1",
        "--max-cost", str(BUDGET),
    )  # fmt: skip
    assert completed.returncode == 3, completed.stdout + completed.stderr
    summary = json.loads((out / "sweep.json").read_text())["sweep"]
    assert summary["status"] == "aborted"
    assert "budget" in summary["status_reason"]
    stages = summary["models"]["slotted-model"]["stages"]
    # Each stage alone is well within the budget: per-stage budgets would have run all five,
    # about 0.14 USD together.
    assert len(stages) < len(RATES.split(","))
    reports = [json.loads((Path(s["out_dir"]) / "report.json").read_text()) for s in stages]
    spent = [report["run"]["cost"]["spent_usd"] for report in reports]
    assert all(s is not None for s in spent)
    assert sum(spent) <= BUDGET
    assert summary["budget"] == {"max_usd": BUDGET, "spent_usd": round(sum(spent), 9)}
