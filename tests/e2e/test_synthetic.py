"""Synthetic prompts from flags alone, against the emulator through Bedrock's and OpenAI's
APIs: the input tokens the emulator counted land on the requested count, the output stays
within the max_tokens each request allowed, and --save-scenario repeats the run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter

from loadgen.report.schema import DatasetSection
from tests.emulator_log import percentile
from tests.helpers import loadgen

MODEL = "amazon.nova-micro-v1:0"
FLAGS = ("--model", MODEL, "--synthetic", "2000:300", "--rps", "5", "--duration", "3s")


def _samples(out: Path) -> list[dict[str, Any]]:
    lines = (out / "samples.jsonl").read_text().splitlines()
    return [s for s in map(json.loads, lines) if s["outcome"] == "ok" and not s["warmup"]]


@pytest.mark.parametrize("api", ["bedrock-converse-stream", "openai-chat"])
def test_flags_alone_land_on_the_requested_tokens(tmp_path: Path, api: str) -> None:
    out = tmp_path / "out"
    completed = loadgen(
        "run", *FLAGS, "--api", api, "--emulate", "--out", str(out), "--no-html", "--quiet"
    )
    assert completed.returncode == 0, completed.stderr
    samples = _samples(out)
    assert len(samples) >= 5
    # The emulator's own count (usage), not ours: within 5 % of 2,000 at the median.
    inputs = [s["input_tokens"] + (s["cache_read_tokens"] or 0) for s in samples]
    assert abs(percentile(inputs, 50) - 2000) <= 0.05 * 2000
    assert all(0 < s["output_tokens"] <= 300 for s in samples)
    report = json.loads((out / "report.json").read_text())
    dataset = TypeAdapter(DatasetSection).validate_python(report["dataset"])
    tokens = dataset["models"][MODEL]
    assert dataset["token_method"] == tokens["token_method"] == "calibrated"
    assert tokens["compared"] == len(samples)
    assert tokens["input"]["actual"]["p50"] == percentile(inputs, 50)
    assert tokens["input"]["relative_error"]["p95"] is not None
    assert tokens["input"]["relative_error"]["p95"] <= 0.05
    assert tokens["output"]["requested"]["p50"] == 300


def test_a_saved_scenario_repeats_the_run(tmp_path: Path) -> None:
    saved = tmp_path / "again.yaml"
    first, second = tmp_path / "first", tmp_path / "second"
    completed = loadgen(
        "run", *FLAGS, "--emulate", "--out", str(first), "--no-html", "--quiet",
        "--save-scenario", str(saved),
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    assert yaml.safe_load(saved.read_text())["dataset"]["synthetic"] == {
        "input": 2000,
        "output": 300,
    }
    completed = loadgen("run", str(saved), "--emulate", "--out", str(second), "--no-html", "-q")
    assert completed.returncode == 0, completed.stderr

    def requests(out: Path) -> list[tuple[Any, ...]]:
        lines = (out / "samples.jsonl").read_text().splitlines()
        return [(s["row_id"], s["intended_us"], s["input_tokens"]) for s in map(json.loads, lines)]

    assert requests(second) == requests(first)


def test_a_missing_dataset_names_both_places_tried(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "name": "rows",
                "models": [MODEL],
                "prompt": {"template": "Say {word}"},
                "dataset": {"path": "no-such-rows.jsonl"},
                "load": {"rate": 1, "requests": 1},
            }
        )
    )
    completed = loadgen("run", str(scenario), "--emulate", "--out", str(tmp_path / "out"))
    assert completed.returncode == 2, completed.stderr
    assert str(tmp_path / "no-such-rows.jsonl") in completed.stderr
    assert "beside the scenario first, then in the current folder" in completed.stderr


def test_a_sweep_from_flags_alone(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    completed = loadgen(
        "sweep", "--model", MODEL, "--synthetic", "500:50", "--emulate", "--rates", "2",
        "--stage-duration", "2s", "--stage-warmup", "0s", "--min-stage-requests", "1",
        "--out", str(out), "--quiet",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    sweep = json.loads((out / "sweep.json").read_text())
    assert sweep["sweep"]["scenario"] == "synthetic-500-50"
    (stage,) = out.glob("*/rate-2/report.json")
    tokens = json.loads(stage.read_text())["dataset"]["models"][MODEL]
    assert tokens["input"]["actual"]["p50"] == 500
    assert tokens["output"]["actual"]["p95"] <= 50
