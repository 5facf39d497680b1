"""`loadgen report` on a sweep's folder: sweep.json found and read back (version 1 too), or
one clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from loadgen.capacity.console import print_sweep
from loadgen.capacity.saved import load_sweep, sweep_path
from loadgen.core.errors import ConfigError
from loadgen.report.html.sweep import render_sweep

VERSION_1_STAGE = {
    "rate": 8.0,
    "out_dir": "out/m/rate-8",
    "status": "completed",
    "saturated": False,
    "saturation_reasons": [],
    "thresholds_passed": None,
    "failed_checks": [],
    "meets_slos": True,
    "achieved_rps": 8.0,
    "throughput_rps": 8.01,
    "goodput_rps": 7.9,
    "ttft_response_p50_ms": 352.0,
    "ttft_p95_ms": 470.2,
    "ttft_growth": 1.02,
    "error_rate": 0.0,
    "throttle_rate": 0.0,
    "input_tokens_mean": 360.0,
    "output_tokens_mean": 180.0,
}
VERSION_1 = {
    "schema_version": 1,
    "sweep": {
        "scenario": "s",
        "started_at": "2026-01-01T00:00:00.000Z",
        "ended_at": "2026-01-01T00:05:00.000Z",
        "status": "completed",
        "status_reason": None,
        "emulated": False,
        "settings": {"rates": [8.0], "stage_duration": 30.0},
        "thresholds": [],
        "models": {
            "m": {
                "stages": [VERSION_1_STAGE],
                "knee_rps": None,
                "highest_slo_rps": 8.0,
                "at_highest_slo": {"goodput_rps": 7.9, "tokens_per_minute": 259_200.0},
                "quota": {"source": None, "rpm": None, "tpm": None},
                "quota_limited_rps": None,
                "stopped_because": "every rate of the ladder was run",
            }
        },
    },
}


def test_a_sweep_folder_is_told_from_a_run_folder(tmp_path: Path) -> None:
    (tmp_path / "sweep.json").write_text(json.dumps(VERSION_1))
    assert sweep_path(tmp_path) == tmp_path / "sweep.json"
    assert sweep_path(tmp_path / "sweep.json") == tmp_path / "sweep.json"
    (tmp_path / "report.json").write_text("{}")  # a run's folder, whatever else is there
    assert sweep_path(tmp_path) is None
    assert sweep_path(tmp_path / "nowhere") is None


def test_a_version_1_sweep_reads_in_todays_words(tmp_path: Path) -> None:
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps(VERSION_1))
    document = load_sweep(path)
    console = Console(width=160, record=True, color_system=None)
    print_sweep(document["sweep"], console, stages=True)
    printed = console.export_text()
    assert "m: no SLOs given; kept up to 8 req/s" in printed
    assert "259,200" in printed and "kept up; no SLOs given" in printed
    page = render_sweep(document)
    assert page.count('<svg class="chart"') == 1 and "kept up; no SLOs given" in page


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "cannot read it as JSON"),
        ('{"schema_version": 2}', "no `sweep` object"),
        ('{"schema_version": 9, "sweep": {}}', "sweep schema_version 9"),
        ('{"schema_version": 2, "sweep": {"scenario": "s"}}', "no status, models"),
    ],
)
def test_a_damaged_sweep_is_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "sweep.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_sweep(path)
