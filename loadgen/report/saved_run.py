"""A run read back from its folder (report.json, samples.jsonl), for the offline commands."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from loadgen.core.errors import ConfigError
from loadgen.record.model_stats import ModelStats
from loadgen.report.build import model_stats_from_section
from loadgen.report.schema import ModelSection, Report

REPORT_FILE = "report.json"
SAMPLES_FILE = "samples.jsonl"


@dataclass(frozen=True)
class SavedRun:
    report: Report
    report_path: Path

    @property
    def samples_path(self) -> Path | None:
        path = self.report_path.with_name(SAMPLES_FILE)
        return path if path.is_file() else None

    @property
    def label(self) -> str:
        """The run's folder: how the user named it."""
        return str(self.report_path.parent)


def load_run(path: Path) -> SavedRun:
    """A run folder or the path of its report.json; a clear error for anything else."""
    report_path = path / REPORT_FILE if path.is_dir() else path
    if not report_path.is_file():
        raise ConfigError(
            [
                f"no {REPORT_FILE} there: give a run's folder (what `loadgen run --out` wrote) "
                f"or the path of its {REPORT_FILE}"
            ],
            str(path),
        )
    try:
        data = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError([f"cannot read it as JSON: {exc}"], str(report_path)) from None
    if not isinstance(data, dict) or not {"schema_version", "run", "models"} <= data.keys():
        raise ConfigError(
            ["not a loadgen report (schema_version, run and models missing)"], str(report_path)
        )
    # Taken as written: its readers turn a missing or damaged part into a ConfigError where
    # it matters (read_model_stats); loadgen.report.schema.validate_report checks it all.
    return SavedRun(report=cast(Report, data), report_path=report_path)


def read_model_stats(section: ModelSection, model: str, source: str) -> ModelStats:
    """A model's histograms and counters from its report section; a clear error if damaged."""
    try:
        return model_stats_from_section(section)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(
            [f"models.{model}: cannot read it back ({type(exc).__name__}: {exc})"], source
        ) from None
