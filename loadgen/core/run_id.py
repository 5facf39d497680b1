"""A run's id: in report.json (`run.run_id`) and on each of its samples.jsonl lines, so that
lines from many runs loaded into one table (DuckDB, pandas) still say which run they are of."""

from __future__ import annotations

import uuid


def new_run_id() -> str:
    """A random UUID: runs made on any machine, at any time, never share one."""
    return str(uuid.uuid4())
