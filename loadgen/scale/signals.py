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

from loadgen.core.parent_death import set_parent_death_signal

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


def die_with_parent(parent_pid: int, signum: int = signal.SIGINT) -> None:
    """In a worker: `signum` (a Ctrl-C: the run stops and writes its report) when the parent
    is gone, however it ended. Linux only (prctl PR_SET_PDEATHSIG, tied to the thread that
    started the worker, which waits for it to end); elsewhere a no-op."""
    if not set_parent_death_signal(signum):
        return
    if os.getppid() != parent_pid:  # the parent ended before the request took effect
        os.kill(os.getpid(), signum)
