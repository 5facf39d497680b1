"""`loadgen prices` shows each price's source and age and flags old ones (--max-age); a run
warns once, before it starts, when a price it uses is older than cost.max_price_age_days."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.helpers import REPO, loadgen

SCENARIO = REPO / "scenarios" / "email_summary.yaml"
WIDE = {"COLUMNS": "250"}  # the table whole, not folded to a narrow terminal


def test_prices_lists_sources_and_flags_prices_past_the_max_age() -> None:
    every = loadgen("prices", "--max-age", "0", env=WIDE)
    assert every.returncode == 0, every.stderr
    assert "sources:" in every.stdout
    assert "[1] https://aws.amazon.com/bedrock/pricing/" in every.stdout
    assert "price(s) checked more than 0 days ago" in every.stdout
    none = loadgen("prices", "--max-age", "100000", env=WIDE)
    assert none.returncode == 0, none.stderr
    assert "checked more than" not in none.stdout and " old " not in none.stdout


def test_a_run_with_old_prices_warns_once_and_notes_each(tmp_path: Path) -> None:
    scenario = yaml.safe_load(SCENARIO.read_text())
    scenario["dataset"]["path"] = str(SCENARIO.parent / scenario["dataset"]["path"])
    scenario["cost"] = {**scenario.get("cost", {}), "max_price_age_days": 0}
    path = tmp_path / "old-prices.yaml"
    path.write_text(yaml.safe_dump(scenario))
    out = tmp_path / "out"
    completed = loadgen(
        "run", str(path), "--emulate", "--requests", "3", "--out", str(out), env=WIDE
    )
    assert completed.returncode in (0, 99), completed.stderr
    assert completed.stdout.count("warning: prices older than 0 days") == 1
    notes = json.loads((out / "report.json").read_text())["run"]["notes"]
    old = [note for note in notes if "days old (more than 0)" in note]
    assert len(old) == len(scenario["models"])
