"""pandas is an optional extra: its absence said in one sentence, with the command that fixes it.

`import loadgen.notebook` needs no pandas (runs, reports and charts do not): frames.py, which
imports it inside `pandas_needed()`, is imported when a table is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

INSTALL_HINT = "pip install 'loadgen[notebook]'"


@contextmanager
def pandas_needed() -> Iterator[None]:
    """pandas missing, within the block, raises an ImportError that names the extra."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if exc.name != "pandas":
            raise
        raise ImportError(
            f"loadgen's tables are pandas DataFrames, and pandas is not installed: {INSTALL_HINT}"
        ) from None
