"""A run read back from its folder (report.json, samples.jsonl), for the offline commands."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError

from loadgen import __version__
from loadgen.core.errors import ConfigError
from loadgen.record.model_stats import ModelStats
from loadgen.report.build import SCHEMA_VERSION, model_stats_from_section
from loadgen.report.schema import ModelSection, Report, validate_report

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


def load_run(path: Path, *, any_schema: bool = False) -> SavedRun:
    """A run folder or the path of its report.json; a clear error for anything else, and for a
    report of a schema_version this loadgen does not read, a later one (unless `any_schema`:
    merge, which has rules of its own)."""
    report_path = path / REPORT_FILE if path.is_dir() else path
    if not report_path.is_file():
        raise ConfigError([_no_report_there(path)], str(path))
    try:
        data = json.loads(report_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError([f"cannot read it as JSON: {exc}"], str(report_path)) from None
    if not isinstance(data, dict):
        raise ConfigError(
            [f"not a loadgen report: a JSON {_json_type(data)}, not an object"], str(report_path)
        )
    missing = [key for key in ("schema_version", "run", "models") if key not in data]
    if missing:
        raise ConfigError(
            [f"not a loadgen report: no {', '.join(missing)} in it"], str(report_path)
        )
    wrong = [key for key in ("run", "models") if not isinstance(data[key], dict)]
    if wrong:
        raise ConfigError(
            [f"not a loadgen report: {key} is a JSON {_json_type(data[key])}" for key in wrong],
            str(report_path),
        )
    if not (any_schema or _readable_version(data["schema_version"])):
        raise ConfigError([_other_schema(data)], str(report_path))
    # Taken as written: its readers turn a missing or damaged part into a ConfigError where
    # it matters (read_model_stats, reading); loadgen.report.schema.validate_report checks it all.
    return SavedRun(report=cast(Report, data), report_path=report_path)


def _no_report_there(path: Path) -> str:
    text = (
        f"no {REPORT_FILE} there: give a run's folder (what `loadgen run --out` wrote) or the "
        f"path of its {REPORT_FILE}"
    )
    if path.is_dir() and (path / SAMPLES_FILE).is_file():
        text += (
            f" ({SAMPLES_FILE} is there: that run is still going, or it stopped before "
            "writing its report)"
        )
    return text


def _readable_version(version: object) -> bool:
    """This loadgen's schema_version or an earlier one: its readers take what a later version
    added as absent (docs/report.md, "Changes")."""
    return type(version) is int and 1 <= version <= SCHEMA_VERSION


def _other_schema(data: dict[str, Any]) -> str:
    run = data["run"]
    version = run.get("loadgen_version") if isinstance(run, dict) else None
    by = f"written by loadgen {version}" if version else "written by another loadgen"
    return (
        f"schema_version {data['schema_version']!r} ({by}); this loadgen ({__version__}) reads "
        f"schema_version {SCHEMA_VERSION} or earlier: read it with the loadgen that wrote it"
    )


def _json_type(value: object) -> str:
    names = {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


# What reading a report of another shape raises: a key missing, a list for an object, a
# string for a number.
SHAPE_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)
MAX_PROBLEMS = 5


@contextmanager
def reading(*runs: SavedRun) -> Iterator[None]:
    """Reading saved reports (printing, comparing, merging, drawing them): an error that comes
    from a report not shaped as this loadgen writes it becomes a ConfigError (exit 2) saying
    what in it is wrong. An error on reports that are well formed is a bug, and is raised as is.
    """
    try:
        yield
    except SHAPE_ERRORS:
        for run in runs:
            problems = shape_problems(run.report)
            if problems:
                raise ConfigError([_unreadable(problems)], str(run.report_path)) from None
        raise


def shape_problems(report: object) -> list[str]:
    """Where `report` differs from what this loadgen writes (the types of
    loadgen/report/schema.py, strictly); [] when it does not."""
    try:
        validate_report(report)
    except ValidationError as exc:
        return [
            f"{'.'.join(str(part) for part in error['loc']) or '(top)'}: {error['msg']}"
            for error in exc.errors()
        ]
    return []


def _unreadable(problems: list[str]) -> str:
    head = "not a report this loadgen can read"
    if len(problems) == 1:
        return f"{head}: {problems[0]}"
    first = f", the first {MAX_PROBLEMS}" if len(problems) > MAX_PROBLEMS else ""
    lines = "".join(f"\n  - {problem}" for problem in problems[:MAX_PROBLEMS])
    return f"{head} ({len(problems)} problems{first}):{lines}"


def read_model_stats(section: ModelSection, model: str, source: str) -> ModelStats:
    """A model's histograms and counters from its report section; a clear error if damaged."""
    try:
        return model_stats_from_section(section)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(
            [f"models.{model}: cannot read it back ({type(exc).__name__}: {exc})"], source
        ) from None
