"""A run awaited from code that cannot await: a plain script, or a notebook cell.

Jupyter's kernel already runs an event loop in the thread that runs the cells, and asyncio
refuses to start a second loop there (nor may a blocking call wait on the loop it blocks).
So when a loop is running, the run gets a loop of its own on a worker thread, and the cell
waits for it. Patching the kernel's loop to re-enter itself (nest_asyncio) would let the
run's timers and the kernel's handlers interleave on one loop: the measurements would carry
the kernel's work.

Signals reach only the main thread, so a run on a worker thread cannot install its own
handlers: an interrupt (Ctrl-C, or Jupyter's "interrupt the kernel") lands here as
KeyboardInterrupt, and is passed on as a stop request on the run's loop, as the run's own
handler would have done. The run then ends as an interrupted command-line run does: requests
in flight get their grace period (a second interrupt ends it) and the report is written.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from contextvars import ContextVar
from typing import Any, TypeVar

from loadgen.core.event_loop import run_blocking
from loadgen.engine.stopping import INTERRUPTED, RunStop

T = TypeVar("T")

INTERRUPT_REASON = "interrupted (KeyboardInterrupt)"

# The RunStop of a run driven on a worker thread, set in that thread's task: the run reads it
# (loadgen/notebook/running.py), so that the caller's signature stays the command's flags.
worker_stop: ContextVar[RunStop | None] = ContextVar("loadgen_worker_stop", default=None)


def loop_is_running() -> bool:
    """Whether this thread is inside a running event loop (a notebook cell is)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_to_end(coroutine: Coroutine[Any, Any, T]) -> T:
    """The coroutine (a run) run to its end and its result returned, blocking: on this thread
    when no loop runs in it, else on a loop of its own in a worker thread."""
    if not loop_is_running():
        # A script's main thread: the run installs its own signal handlers.
        return run_blocking(coroutine)
    return _on_worker_thread(coroutine)


def _on_worker_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    relay = _InterruptRelay(RunStop())
    outcome: list[T] = []
    failure: list[BaseException] = []
    finished = threading.Event()

    async def main() -> T:
        worker_stop.set(relay.stop)
        relay.run_started()
        return await coroutine

    def work() -> None:
        try:
            outcome.append(run_blocking(main()))
        except BaseException as exc:  # handed to the waiting thread, raised there
            failure.append(exc)
        finally:
            finished.set()

    worker = threading.Thread(target=work, name="loadgen-run", daemon=True)
    launched = False
    # Waited on as an Event, not with Thread.join: on Python 3.11 and 3.12 a join interrupted
    # by KeyboardInterrupt can mark the thread as ended while it still runs. The thread is
    # started inside the loop, so that an interrupt while it starts is relayed too.
    while not finished.is_set():
        try:
            if not launched:
                launched = True
                worker.start()
            finished.wait()
        except KeyboardInterrupt:
            relay.interrupt()
    worker.join()
    if failure:
        raise failure[0]
    return outcome[0]


class _InterruptRelay:
    """Interrupts of the waiting thread, requested as stops on the run's loop: at once when
    the loop runs, else as soon as it does."""

    def __init__(self, stop: RunStop) -> None:
        self.stop = stop
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending = 0

    def run_started(self) -> None:
        """Called on the run's loop, before the run."""
        with self._lock:
            self._loop = asyncio.get_running_loop()
            pending, self._pending = self._pending, 0
        for _ in range(pending):
            self._request()

    def interrupt(self) -> None:
        """Called on the waiting thread, for each KeyboardInterrupt."""
        with self._lock:
            loop = self._loop
            if loop is None:
                self._pending += 1
                return
        with contextlib.suppress(RuntimeError):  # the loop has closed: the run has ended
            loop.call_soon_threadsafe(self._request)

    def _request(self) -> None:
        # As the run's own handler does with a signal: a second one cuts the grace short.
        self.stop.request(INTERRUPTED, INTERRUPT_REASON, from_signal=True)
