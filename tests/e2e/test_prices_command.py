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


def test_prices_shows_each_models_lifecycle_status_and_warns() -> None:
    listing = loadgen("prices", env=WIDE)
    assert listing.returncode == 0, listing.stderr
    rows = {
        line.split()[0]: line.split()[2]
        for line in listing.stdout.splitlines()
        if "  us-east-1  " in line
    }
    assert rows["anthropic.claude-sonnet-4-20250514-v1:0"] == "EOL"
    assert rows["global.anthropic.claude-sonnet-4-5-20250929-v1:0"] == "legacy"
    assert rows["global.anthropic.claude-haiku-4-5-20251001-v1:0"] == "active"
    assert "past their end of life on Bedrock" in listing.stdout
    assert "not priced (no sourced price" in listing.stdout
    one = loadgen("prices", "--model", "us.anthropic.claude-3-7-sonnet-20250219-v1:0", env=WIDE)
    assert one.returncode == 0, one.stderr
    assert "lifecycle: end of life (end of life 2026-07-30)" in one.stdout
    assert one.stdout.count("reached end of life on Bedrock on 2026-07-30") == 1


def test_a_run_on_an_end_of_life_model_warns_and_still_runs_on_the_emulator(
    tmp_path: Path,
) -> None:
    # email_summary.yaml keeps Claude 3.7 Sonnet, past its end of life on Bedrock.
    scenario = yaml.safe_load(SCENARIO.read_text())
    scenario["dataset"]["path"] = str(SCENARIO.parent / scenario["dataset"]["path"])
    path = tmp_path / "eol.yaml"
    path.write_text(yaml.safe_dump(scenario))
    out = tmp_path / "out"
    completed = loadgen(
        "run", str(path), "--emulate", "--requests", "3", "--out", str(out), env=WIDE
    )
    assert completed.returncode in (0, 99), completed.stderr
    eol = "us.anthropic.claude-3-7-sonnet-20250219-v1:0 (Claude 3.7 Sonnet) reached end of life"
    assert completed.stdout.count(eol) == 1
    assert "the emulator still answers it" in completed.stdout
    assert "will fail on AWS" not in completed.stdout
    report = json.loads((out / "report.json").read_text())
    assert any(note.startswith(eol) for note in report["run"]["notes"])
    sent = report["models"]["us.anthropic.claude-3-7-sonnet-20250219-v1:0"]
    assert sent["requests"]["sent"] >= 1
