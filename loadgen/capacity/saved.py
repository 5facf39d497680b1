"""A sweep read back from its folder (sweep.json), for `loadgen report SWEEP_FOLDER`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loadgen.core.errors import ConfigError

SWEEP_FILE = "sweep.json"
REPORT_FILE = "report.json"
# sweep.json versions this loadgen reads: 1 lacks what 2 added (verdict words, intervals,
# stage lengths, warnings), 2 what 3 added (quota windows, bounds, max_tokens advice), which
# the readers take as absent.
READABLE_VERSIONS = (1, 2, 3)


def sweep_path(path: Path) -> Path | None:
    """The sweep.json that `path` names (the file, or a folder holding one and no run's
    report.json); None when `path` is not a sweep."""
    if path.is_file():
        return path if path.name == SWEEP_FILE else None
    if (path / SWEEP_FILE).is_file() and not (path / REPORT_FILE).is_file():
        return path / SWEEP_FILE
    return None


def load_sweep(path: Path) -> dict[str, Any]:
    """sweep.json as written ({"schema_version", "sweep"}), or one clear error (exit 2)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError([f"cannot read it as JSON: {exc}"], str(path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("sweep"), dict):
        raise ConfigError(["not a loadgen sweep: no `sweep` object in it"], str(path))
    version = data.get("schema_version")
    if version not in READABLE_VERSIONS:
        raise ConfigError(
            [
                f"sweep schema_version {version!r}; this loadgen reads "
                f"{', '.join(map(str, READABLE_VERSIONS))}: read it with the loadgen that wrote it"
            ],
            str(path),
        )
    summary = data["sweep"]
    missing = [k for k in ("scenario", "status", "models") if k not in summary]
    if missing or not isinstance(summary["models"], dict):
        what = ", ".join(missing) or "models as an object"
        raise ConfigError([f"not a loadgen sweep: no {what} in it"], str(path))
    return data
