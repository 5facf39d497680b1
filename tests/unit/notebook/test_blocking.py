"""run_sync's engine: a run awaited from code that cannot await, with or without a loop
running in the caller's thread (a notebook cell has one), and an interrupt passed on."""

from __future__ import annotations

import asyncio
import os
import signal
import threading

import pytest

from loadgen.engine.stopping import INTERRUPTED
from loadgen.notebook.blocking import INTERRUPT_REASON, run_to_end, worker_stop


async def where_it_ran() -> tuple[int, asyncio.AbstractEventLoop]:
    await asyncio.sleep(0)
    return threading.get_ident(), asyncio.get_running_loop()


def test_without_a_running_loop_the_run_is_on_this_thread() -> None:
    thread, _ = run_to_end(where_it_ran())
    assert thread == threading.get_ident()


async def test_inside_a_running_loop_the_run_gets_a_loop_and_thread_of_its_own() -> None:
    # As a notebook cell calls run_sync: synchronously, from inside the kernel's loop.
    thread, loop = run_to_end(where_it_ran())
    assert thread != threading.get_ident()
    assert loop is not asyncio.get_running_loop()
    assert loop.is_closed()  # the run's loop ends with the run


async def test_an_error_in_the_run_reaches_the_caller() -> None:
    async def fails() -> None:
        raise ValueError("the scenario is wrong")

    with pytest.raises(ValueError, match="the scenario is wrong"):
        run_to_end(fails())


def test_an_interrupt_while_waiting_becomes_a_stop_request_on_the_run() -> None:
    """Ctrl-C (or "interrupt the kernel") raises KeyboardInterrupt in the waiting main
    thread; the run, on its worker thread, must see it as the signal it could not catch."""

    async def interrupted_run() -> tuple[str | None, str | None, bool]:
        stop = worker_stop.get()
        assert stop is not None
        os.kill(os.getpid(), signal.SIGINT)  # delivered to the main thread, waiting in join
        while stop.status is None:
            await asyncio.sleep(0.01)
        return stop.status, stop.reason, stop.hard

    async def cell() -> tuple[str | None, str | None, bool]:
        return run_to_end(interrupted_run())

    loop = asyncio.new_event_loop()  # a loop without SIGINT handlers of its own, as a kernel's
    try:
        assert loop.run_until_complete(cell()) == (INTERRUPTED, INTERRUPT_REASON, False)
    finally:
        loop.close()


async def test_an_interrupt_before_the_run_started_stops_it_when_it_starts() -> None:
    from loadgen.engine.stopping import RunStop
    from loadgen.notebook.blocking import _InterruptRelay

    relay = _InterruptRelay(RunStop())
    relay.interrupt()  # the worker thread was still starting: no loop to call yet
    assert relay.stop.status is None
    relay.run_started()
    assert (relay.stop.status, relay.stop.hard) == (INTERRUPTED, False)
