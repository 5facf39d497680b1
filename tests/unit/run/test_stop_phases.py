"""RunStop outside the load phase: steps a stop request cancels, skips or lets finish."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from rich.console import Console

from loadgen.engine.stopping import INTERRUPTED, RunStop
from loadgen.run.display import Display
from loadgen.run.finish import mark_stop
from loadgen.run.outputs import _render, finish_outputs_stoppable
from tests.factories import make_report, make_sample


def _report(status: str = "completed") -> Any:
    """A whole report of 20 requests, as the run's own code builds it."""
    target = {
        "provider": "bedrock",
        "api": "bedrock-converse-stream",
        "region": "us-east-1",
        "endpoint_url": None,
        "emulated": True,
    }
    report: Any = make_report([make_sample(i) for i in range(20)], status=status, target=target)
    rendered, error = _render(report)
    assert rendered is not None, error  # the page can be made: only a stop can leave it out
    return report


async def _held(event: asyncio.Event) -> str:
    await event.wait()
    return "done"


async def test_a_stop_request_cancels_the_step_in_progress() -> None:
    stop = RunStop()
    stop.phase = "preflight"
    asyncio.get_running_loop().call_later(0.01, stop.request, INTERRUPTED, "stopped by SIGINT")
    assert await stop.until_stopped(_held(asyncio.Event())) is None
    assert (stop.status, stop.stopped_in) == ("interrupted", "preflight")
    assert stop.current is None


async def test_a_step_after_a_stop_is_skipped_unless_every_run_needs_it() -> None:
    stop = RunStop()
    stop.request(INTERRUPTED, "stopped by SIGINT")
    release = asyncio.Event()
    release.set()
    assert await stop.until_stopped(_held(release)) is None
    assert await stop.until_stopped(_held(release), even_if_stopped=True) == "done"


async def test_a_second_signal_cancels_a_step_every_run_needs() -> None:
    stop = RunStop()
    stop.request(INTERRUPTED, "stopped by SIGINT", from_signal=True)
    loop = asyncio.get_running_loop()
    loop.call_later(0.01, stop._on_signal, "stopped by SIGINT")  # what the handler calls
    assert await stop.until_stopped(_held(asyncio.Event()), even_if_stopped=True) is None
    assert stop.hard


async def test_cancelling_the_caller_is_not_taken_for_a_stop() -> None:
    stop = RunStop()
    task = asyncio.create_task(stop.until_stopped(_held(asyncio.Event())))
    await asyncio.sleep(0)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("the caller's cancellation was swallowed")
    assert stop.status is None


async def test_a_stop_while_the_page_renders_leaves_it_unwritten(tmp_path: Path) -> None:
    report = _report()
    stop = RunStop()
    stop.phase = "writing"
    asyncio.get_running_loop().call_later(0.02, stop.request, INTERRUPTED, "stopped by SIGINT")
    display = Display(Console(quiet=True), quiet=True)
    await finish_outputs_stoppable(report, tmp_path, True, display, stop)
    assert not (tmp_path / "report.html").exists()
    mark_stop(report, stop)
    assert (report["run"]["status"], report["run"]["stopped_in"]) == ("interrupted", "writing")


async def test_a_run_stopped_during_load_still_gets_its_page(tmp_path: Path) -> None:
    report = _report(status="interrupted")
    stop = RunStop()
    stop.phase = "load"
    stop.request(INTERRUPTED, "stopped by SIGINT")
    stop.phase = "writing"
    display = Display(Console(quiet=True), quiet=True)
    await finish_outputs_stoppable(report, tmp_path, True, display, stop)
    assert "interrupted" in (tmp_path / "report.html").read_text()


def test_scoring_stops_when_told() -> None:
    from loadgen.config.quality_spec import QualitySpec
    from loadgen.quality.kept_responses import KeptResponses
    from loadgen.quality.scoring import score_responses

    kept = KeptResponses(["r1"])
    for i in range(50):
        kept.add(make_sample(i, row_id="r1", response_text="Revenue grew 5% to $1.92M."))
    rows = {
        "r1": {
            "id": "r1",
            "key_facts": {"amounts": ["$1.92M"]},
            "reference_summary": "Revenue grew to $1.92M.",
        }
    }
    cancelled = threading.Event()
    whole = score_responses(kept, rows, QualitySpec(), [])
    cancelled.set()
    cut = score_responses(kept, rows, QualitySpec(), [], cancelled=cancelled)
    assert len(whole) == 50
    assert cut == []
