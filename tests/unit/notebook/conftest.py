"""A saved run for the notebook API to read: report.json and samples.jsonl as a run writes
them, from the 500 samples of tests/factories.py, with quality scores and a verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadgen.config.thresholds import parse_check
from loadgen.report.build import write_json_atomically
from loadgen.report.verdict import build_verdict
from loadgen.sinks.jsonl import JsonlSink
from tests.factories import make_mixed_samples, make_report

# Mean quality per model, as the scorer would have written it (the factories' runs score none).
QUALITY = {"nova-lite": 0.55, "nova-pro": 0.80, "claude-haiku": 0.70}
REQUIREMENTS = ("ttft_p95 <= 1s", "quality >= 0.7")


def saved_report() -> dict[str, Any]:
    report = make_report(make_mixed_samples())
    for model, score in QUALITY.items():
        report["models"][model]["quality"] = {
            "score": {"mean": score, "p10": score - 0.1, "p50": score}
        }
    checks = [parse_check(text) for text in REQUIREMENTS]
    report["verdict"] = build_verdict(checks, report["models"])
    return report


@pytest.fixture
def saved_run(tmp_path: Path) -> Path:
    folder = tmp_path / "run"
    folder.mkdir()
    write_json_atomically(folder / "report.json", saved_report())
    sink = JsonlSink(folder / "samples.jsonl")
    sink.start()
    for sample in make_mixed_samples():
        sink.add(sample)
    sink.stop()
    return folder
