"""The event loop a blocking call runs its coroutine on: uvloop where it is installed."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_blocking(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run on uvloop (less overhead per request), on asyncio's own loop without it."""
    try:
        import uvloop  # optional: not built for Windows
    except ImportError:  # pragma: no cover - Windows
        return asyncio.run(coroutine)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coroutine)
