"""Progress where no view can be redrawn (a log, CI): a plain line every few seconds of the
run's own clock; and the live view naming the drain and the scheduled rate, at 80 columns.
A real piped run: tests/e2e/test_trust_and_terminals.py."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from loadgen.core.sample import ErrorClass
from loadgen.record.recorder import Recorder
from loadgen.run.display import LINES_EVERY_ENV, LINES_EVERY_S, Display
from loadgen.run.progress import (
    LiveView,
    ModelCounts,
    ProgressBoard,
    ProgressLines,
    ProgressPlan,
    ProgressSnapshot,
    progress_output,
    take_snapshot,
)
from tests.factories import make_sample

LONG = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
PLAN = ProgressPlan(name="dropping", target_rps=8.0, planned_s=30.0, planned_requests=None)


def _snapshot(elapsed_s: float, sent: int, dropped: int, in_flight: int) -> ProgressSnapshot:
    errors = {"throttled": 2, "dropped": dropped}
    return ProgressSnapshot(
        elapsed_s=elapsed_s,
        sent=sent,
        dropped=dropped,
        in_flight=in_flight,
        completed=sent - in_flight,
        models={LONG: ModelCounts(sent - in_flight, sent - in_flight - 2, errors)},
        ttft={},
        cpu_s=0.0,
        wall_s=elapsed_s,
    )


def test_a_line_every_ten_seconds_of_the_run_with_rates_over_the_last_interval() -> None:
    screen = io.StringIO()
    board = ProgressBoard(PLAN)
    lines = ProgressLines(Console(file=screen, width=500), every_s=10.0)
    # (elapsed, sent, dropped, in flight), as the half-second refreshes would see them
    for elapsed, sent, dropped in ((0.5, 1, 0), (9.5, 19, 55), (10.0, 20, 60), (15.0, 30, 90)):
        board.update(0, _snapshot(elapsed, sent, dropped, 3))
        lines.show(board)
    board.update(0, _snapshot(20.5, 41, 123, 3))
    lines.show(board)
    printed = screen.getvalue().splitlines()
    assert printed == [
        "progress 10 s of 30 s, sent 20, in flight 3, dropped 60, errors 2, TTFT p50 - / p99 - "
        "ms (last 10 s), achieved 2.00 of 8.00 req/s scheduled (target 8, last 10 s)",
        "progress 20 s of 30 s, sent 41, in flight 3, dropped 123, errors 2, TTFT p50 - / p99 - "
        "ms (last 10 s), achieved 2.00 of 8.00 req/s scheduled (target 8, last 10 s)",
    ]


def test_after_the_schedule_the_line_and_the_view_say_draining() -> None:
    board = ProgressBoard(PLAN)
    board.update(0, _snapshot(30.0, 60, 180, 3))
    board.update(0, _snapshot(33.8, 60, 180, 2))
    assert board.line().startswith("progress 34 s of 30 s: draining, sent 60, in flight 2,")
    view = board.render(80).plain
    assert "33.8 s of 30 s: draining, 2 in flight" in view
    assert "s left" not in view


def test_the_live_view_fits_80_columns_with_every_figure() -> None:
    recorder = Recorder()
    for i in range(1, 40):  # 10 s into the run: inside the view's TTFT window at 12.3 s
        recorder.add(make_sample(i, model=LONG, start_us=10_000_000 + 1000 * i))
    recorder.add(make_sample(40, model=LONG, error=ErrorClass.SERVER, first_token_us=None))

    class Clock:
        def now_ns(self) -> int:
            return 12_300_000_000

    board = ProgressBoard(PLAN)
    board.update(0, take_snapshot(recorder, lambda: (1_234_567, 7_654_321, 3), Clock(), 0))
    screen = io.StringIO()
    Console(file=screen, width=80, color_system=None).print(board.render(80))
    text = screen.getvalue()
    assert "…" not in text
    assert max(map(len, text.splitlines())) <= 80
    assert "sent 1,234,567" in text and "dropped 7,654,321" in text
    assert "errors: server 1" in text
    assert re.search(r"rate: target 8 req/s, achieved \d+\.\d\d req/s of \d+\.\d\d scheduled", text)
    p50, p99 = board.ttft_ms(LONG, 12)
    assert p50 is not None and p99 is not None
    assert re.search(rf"claude-3-7-sonnet\s+40\s+1\s+{p50:,.1f} / {p99:,.1f}", text), text


def test_lines_where_nothing_can_be_redrawn_and_a_view_where_it_can(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LOADGEN_PROGRESS", raising=False)
    monkeypatch.delenv(LINES_EVERY_ENV, raising=False)
    piped = Console(file=io.StringIO())
    terminal = Console(file=io.StringIO(), force_terminal=True)
    assert isinstance(progress_output(Display(piped)), ProgressLines)
    assert isinstance(progress_output(Display(terminal)), LiveView)
    assert progress_output(Display(piped, quiet=True)) is None
    assert progress_output(Display(piped, progress=False)) is None
    assert Display(piped).lines_every_s() == LINES_EVERY_S
    monkeypatch.setenv(LINES_EVERY_ENV, "2.5")
    assert Display(piped).lines_every_s() == 2.5
    monkeypatch.setenv(LINES_EVERY_ENV, "soon")
    assert Display(piped).lines_every_s() == LINES_EVERY_S
    monkeypatch.setenv("LOADGEN_PROGRESS", "1")  # the view, forced, even into a pipe
    assert isinstance(progress_output(Display(piped)), LiveView)
