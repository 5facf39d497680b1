"""Live progress of a `--workers N` run: worker snapshots, summed by the parent's board."""

from __future__ import annotations

import io
import pickle
import random
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from loadgen.core.sample import ErrorClass, Sample
from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.record.recorder import Recorder
from loadgen.run import RunOptions
from loadgen.run.progress import ProgressBoard, ProgressPlan, SnapshotPublisher
from loadgen.scale.share import share_spec
from loadgen.scale.workers import run_with_workers
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
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("LOADGEN_PROGRESS", raising=False)
    piped = RunOptions(console=Console(file=io.StringIO()))  # not a terminal
    assert not share_spec(piped, Path("w"), 0, 2, None).progress
    quiet = RunOptions(quiet=True, console=Console(file=io.StringIO(), force_terminal=True))
    assert not share_spec(quiet, Path("w"), 0, 2, None).progress
    monkeypatch.setenv("LOADGEN_PROGRESS", "1")  # forced on, as for a single process
    assert share_spec(piped, Path("w"), 0, 2, None).progress
    terminal = RunOptions(console=Console(file=io.StringIO(), force_terminal=True))
    monkeypatch.delenv("LOADGEN_PROGRESS")
    assert share_spec(terminal, Path("w"), 0, 2, None).progress


PROFILE = {"ttft_ms": 50, "itl_ms": 5, "output_tokens": 10, "tokens_per_delta": 1}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    config = EmulatorConfig.model_validate({"seed": 2, "profiles": {"fixed-model": PROFILE}})
    with EmulatorProcess(config) as process:
        yield process.url


def test_a_two_worker_run_shows_live_progress_up_to_the_whole_schedule(
    endpoint: str, aws_env: dict[str, str], make_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    scenario = make_scenario(
        target={"endpoint_url": endpoint},
        load={"rate": 20, "arrival": "constant", "requests": 60},
    )
    screen = io.StringIO()
    shown = RunOptions(
        out_dir=tmp_path / "shown",
        html=False,
        progress=True,  # as LOADGEN_PROGRESS=1 or a terminal would have it
        console=Console(file=screen, force_terminal=True, width=140),
    )
    result = run_with_workers(scenario, shown, 2)
    assert result.exit_code == 0
    output = screen.getvalue()
    sent = [int(n) for n in re.findall(r"sent (\d+)  in flight", output)]
    assert len(set(sent)) >= 3, output  # redrawn as the run went
    assert sent == sorted(sent)
    assert sent[-1] == 60
    assert "workers: 2  CPU of a core: 0: " in output
    assert re.search(r"fixed-model\s+60\s+0\s+\d+\.\d / \d+\.\d", output)
    # The summary follows the live view, and the report is the same with or without it.
    assert output.rindex("sent 60") < output.index("report: ")
    unseen = RunOptions(
        out_dir=tmp_path / "unseen", quiet=True, html=False, console=Console(quiet=True)
    )
    plain = run_with_workers(scenario, unseen, 2).report
    # Its sections and their fields (figures, and the notes a loaded machine adds, may vary).
    assert _fields(result.report) == _fields(plain)
    assert _fields(result.report["run"]) == _fields(plain["run"])
    assert _fields(result.report["models"]["fixed-model"]) == _fields(
        plain["models"]["fixed-model"]
    )


def _fields(section: dict[str, object]) -> dict[str, list[str]]:
    """A report section's keys, and the keys of each of its sections."""
    return {key: sorted(value) if isinstance(value, dict) else [] for key, value in section.items()}
