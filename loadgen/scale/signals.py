"""Ctrl-C and SIGTERM while workers run: handled by the parent, passed on to each worker once.

Workers run in their own process group, so the terminal's signal reaches only the parent; the
parent's handler decides what the workers hear (loadgen/scale/workers.py forwards it,
loadgen/scale/ray_workers.py counts it for the actors to poll).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from multiprocessing.process import BaseProcess

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def stop_signals_handled_by(handler: Callable[[int, object], None]) -> Iterator[None]:
    """Install `handler` for SIGINT and SIGTERM; restore the previous handlers on the way out."""
    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def interrupt_all(processes: Sequence[BaseProcess]) -> None:
    """SIGINT to every worker still alive: each stops as a single run stops on Ctrl-C."""
    for process in processes:
        if process.is_alive() and process.pid is not None:
            os.kill(process.pid, signal.SIGINT)
