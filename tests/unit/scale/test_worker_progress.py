"""Live progress of a `--workers N` run: worker snapshots, summed by the parent's board. A real
two-worker run against the emulator: tests/e2e/test_worker_progress.py."""

from __future__ import annotations

import io
import pickle
import random
from pathlib import Path

import pytest
from rich.console import Console

from loadgen.core.sample import ErrorClass, Sample
from loadgen.record.recorder import Recorder
from loadgen.run import RunOptions
from loadgen.run.progress import ProgressBoard, ProgressPlan, SnapshotPublisher
from loadgen.scale.share import share_spec
from tests.conftest import ScenarioFactory

MODELS = ["model-a", "model-b"]
SECOND_NS = 1_000_000_000


class StoppedClock:
    """The run's clock, stopped at one instant (the snapshots read it once each)."""

    def __init__(self, now_ns: int) -> None:
        self.now = now_ns

    def now_ns(self) -> int:
        return self.now

    async def sleep_until(self, instant_ns: int) -> None:
        self.now = max(self.now, instant_ns)


def _samples(count: int, seed: int) -> list[Sample]:
    """Requests over 12 seconds: some throttled, some dropped, TTFTs of 100-900 ms."""
    chance = random.Random(seed)
    samples = []
    for index in range(count):
        start = chance.randint(0, 11_000_000)
        ttft = chance.randint(100_000, 900_000)
        error = chance.choice([None] * 8 + [ErrorClass.THROTTLED, ErrorClass.DROPPED])
        ok = error is None
        samples.append(
            Sample(
                request_id=index,
                model=MODELS[index % 2],
                row_id="r",
                warmup=False,
                intended_us=start,
                dispatch_us=start + 100,
                send_us=None if error is ErrorClass.DROPPED else start + 500,
                first_token_us=start + 500 + ttft if ok else None,
                end_us=None if error is ErrorClass.DROPPED else start + 500 + ttft + 200_000,
                output_tokens=50 if ok else None,
                error=error,
            )
        )
    return samples


def test_snapshots_of_two_workers_sum_and_their_ttft_buckets_merge_exactly() -> None:
    samples = _samples(2_000, seed=4)
    shares = [samples[0::2], samples[1::2]]  # two workers' shares of one run
    whole = Recorder()
    for sample in samples:
        whole.add(sample)
    clock = StoppedClock(11 * SECOND_NS + SECOND_NS // 2)
    board = ProgressBoard(
        ProgressPlan(name="merge", target_rps=100.0, planned_s=12.0, planned_requests=None),
        workers=2,
    )
    for k, share in enumerate(shares):
        recorder = Recorder()
        sent = sum(s.error is not ErrorClass.DROPPED for s in share)
        dropped = len(share) - sent
        publisher = SnapshotPublisher(
            lambda snapshot: None, recorder, lambda s=sent, d=dropped: (s, d, 3), clock, 0
        )
        # Two sends per worker, the second after more samples reached old seconds: what
        # changed since the first must travel again (as through the pipe: pickled).
        for part in (share[: len(share) // 2], share[len(share) // 2 :]):
            for sample in part:
                recorder.add(sample)
            board.update(k, pickle.loads(pickle.dumps(publisher.snapshot())))

    totals = board.totals()
    assert totals.sent == sum(s.error is not ErrorClass.DROPPED for s in samples)
    assert totals.dropped == sum(s.error is ErrorClass.DROPPED for s in samples)
    assert totals.in_flight == 6
    assert totals.completed == whole.dispatched
    for model in MODELS:
        stats = whole.models[model]
        assert totals.models[model].done == stats.sent
        assert totals.models[model].ok == stats.ok
        assert totals.models[model].errors == dict(stats.errors)
        # Percentiles of the summed buckets: those of one recorder fed both workers' samples.
        expected = whole.series.detail.recent_ttft_ms(model, 11, 10)
        assert None not in expected
        assert board.ttft_ms(model, 11) == expected
    view = board.render().plain
    assert f"sent {totals.sent:,}  in flight 6" in view
    assert "workers: 2" in view


def test_workers_take_snapshots_only_where_the_parent_draws_them(
    monkeypatch: pytest.MonkeyPatch, make_scenario: ScenarioFactory
) -> None:
    scenario = make_scenario()
    monkeypatch.delenv("LOADGEN_PROGRESS", raising=False)
    # Not a terminal: the parent prints a progress line every few seconds (a CI log).
    piped = RunOptions(console=Console(file=io.StringIO()))
    assert share_spec(piped, Path("w"), 0, 2, None, scenario).progress
    hidden = RunOptions(progress=False, console=Console(file=io.StringIO()))
    assert not share_spec(hidden, Path("w"), 0, 2, None, scenario).progress
    quiet = RunOptions(quiet=True, console=Console(file=io.StringIO(), force_terminal=True))
    assert not share_spec(quiet, Path("w"), 0, 2, None, scenario).progress
    monkeypatch.setenv("LOADGEN_PROGRESS", "1")  # forced on, as for a single process
    assert share_spec(piped, Path("w"), 0, 2, None, scenario).progress
    terminal = RunOptions(console=Console(file=io.StringIO(), force_terminal=True))
    monkeypatch.delenv("LOADGEN_PROGRESS")
    assert share_spec(terminal, Path("w"), 0, 2, None, scenario).progress
