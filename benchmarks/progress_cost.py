"""What one redraw of the live progress view costs the event loop.

A run's state is built as after a long, busy run (three models, `--seconds` of samples at
`--rps`, some throttled), then the view is drawn into /dev/null as on a terminal, many times.
The live view redraws every 0.5 s on the event loop: its cost per redraw is the most it can
delay a request that is due at that moment. Each redraw here starts from a fresh view (no
cached TTFT percentiles), the worst case; a run recomputes them once a second.

    .venv/bin/python benchmarks/progress_cost.py [--seconds 600] [--rps 100] [--redraws 200]

With `--workers N`, what live progress costs a `--workers N` run instead: in each worker, taking
a snapshot (SnapshotPublisher.snapshot, on the worker's event loop twice a second) and sending
it over a real pipe (pickling included), with half a second of new samples between two
snapshots as in a run; in the parent, summing N workers' snapshots and drawing the view.

    .venv/bin/python benchmarks/progress_cost.py --workers 4 [--seconds 600] [--rps 100]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import pickle
import random
import statistics
import time

from rich.console import Console
from rich.live import Live

from loadgen.config.scenario import scenario_from_dict
from loadgen.core.clock import MonotonicClock
from loadgen.core.sample import ErrorClass, Sample
from loadgen.record.recorder import Recorder
from loadgen.run.progress import (
    REFRESH_S,
    LiveProgress,
    ProgressBoard,
    ProgressPlan,
    SnapshotPublisher,
)

MODELS = ["us.amazon.nova-lite-v1:0", "us.amazon.nova-pro-v1:0", "us.anthropic.claude-3-7"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--rps", type=int, default=100)
    parser.add_argument("--redraws", type=int, default=200)
    parser.add_argument("--workers", type=int, default=0, help="measure the --workers path")
    args = parser.parse_args()
    if args.workers:
        measure_workers(args.workers, args.seconds, args.rps, args.redraws)
        return
    scenario = scenario_from_dict(
        {
            "name": "progress-cost",
            "models": MODELS,
            "prompt": {"template": "{body}"},
            "dataset": {"rows": [{"body": "hello"}]},
            "load": {"rate": args.rps, "duration": args.seconds},
            "cost": {"allow_unpriced": True},
        }
    )
    recorder = Recorder()
    chance = random.Random(1)
    for index in range(args.seconds * args.rps):
        recorder.add(_sample(index, args.rps, chance))
    clock = MonotonicClock()
    # t0 as if the run started nearly `seconds` ago, so the view reads recorded seconds.
    base_t0_ns = clock.now_ns() - (args.seconds - 10) * 1_000_000_000
    sent = args.seconds * args.rps
    timings, cpu = [], []
    with open(os.devnull, "w") as sink:
        console = Console(file=sink, force_terminal=True, width=120)
        with Live(console=console, auto_refresh=False) as live:
            for index in range(args.redraws):
                t0_ns = base_t0_ns - (index % 20) * 500_000_000  # a new second every other
                progress = LiveProgress(
                    Console(), scenario, recorder, lambda: (sent, 0, 150), clock, t0_ns, 1
                )
                started, started_cpu = time.perf_counter(), time.thread_time()
                live.update(progress.render(), refresh=True)
                timings.append(time.perf_counter() - started)
                cpu.append(time.thread_time() - started_cpu)
    timings.sort()
    print(
        f"live progress redraw, {args.seconds} s of {args.rps} req/s recorded: "
        f"median {1000 * statistics.median(timings):.2f} ms, "
        f"p99 {1000 * timings[int(0.99 * (len(timings) - 1))]:.2f} ms, "
        f"max {1000 * timings[-1]:.2f} ms (wall); CPU median "
        f"{1000 * statistics.median(cpu):.2f} ms, max {1000 * max(cpu):.2f} ms; at 2 redraws/s "
        f"that is {100 * 2 * statistics.median(cpu):.2f} % of the event loop"
    )


def _sample(index: int, rps: int, chance: random.Random) -> Sample:
    """Request `index` of a run at `rps`: TTFT 150-600 ms, a 1 s stream, 2 % throttled."""
    start = index * 1_000_000 // rps
    ttft = chance.randint(150_000, 600_000)
    throttled = chance.random() < 0.02
    return Sample(
        request_id=index,
        model=MODELS[index % len(MODELS)],
        row_id="r",
        warmup=False,
        intended_us=start,
        dispatch_us=start + 200,
        send_us=start + 2_000,
        first_token_us=None if throttled else start + 2_000 + ttft,
        end_us=start + 2_000 + ttft + 1_000_000,
        output_tokens=None if throttled else 200,
        error=ErrorClass.THROTTLED if throttled else None,
    )


class SteppedClock:
    """The run's clock, moved on by hand: half a second of samples between two snapshots."""

    def __init__(self) -> None:
        self.now = 0

    def now_ns(self) -> int:
        return self.now

    async def sleep_until(self, instant_ns: int) -> None:
        self.now = max(self.now, instant_ns)


def measure_workers(workers: int, seconds: int, rps: int, redraws: int) -> None:
    per_worker = max(rps // workers, 1)
    chance = random.Random(1)
    recorder = Recorder()
    clock = SteppedClock()
    publisher = SnapshotPublisher(lambda snapshot: None, recorder, lambda: (0, 0, 150), clock, 0)
    parent_end, worker_end = multiprocessing.Pipe(duplex=False)
    step = int(per_worker * REFRESH_S)  # requests per half second
    take, send, sizes, snapshots = [], [], [], []
    index = 0
    for _ in range(int(seconds / REFRESH_S)):
        for _ in range(step):  # what the worker recorded since its last snapshot
            recorder.add(_sample(index, per_worker, chance))
            index += 1
        clock.now = index * 1_000_000_000 // per_worker
        started = time.perf_counter()
        snapshot = publisher.snapshot()
        taken = time.perf_counter()
        worker_end.send(snapshot)
        sent = time.perf_counter()
        take.append(taken - started)
        send.append(sent - taken)
        snapshots.append(parent_end.recv())
        sizes.append(len(pickle.dumps(snapshot)))
    # The parent: each worker's snapshots (here the same stream for each), summed and drawn.
    board = ProgressBoard(ProgressPlan("progress-cost", float(rps), float(seconds), None), workers)
    draws = []
    with open(os.devnull, "w") as sink:
        console = Console(file=sink, force_terminal=True, width=120)
        with Live(console=console, auto_refresh=False) as live:
            for snapshot in snapshots[-redraws:]:
                started = time.perf_counter()
                for k in range(workers):
                    board.update(k, snapshot)
                live.update(board.render(), refresh=True)
                draws.append(time.perf_counter() - started)
    take.sort()
    send.sort()
    share = 100 / REFRESH_S * (statistics.median(take) + statistics.median(send))
    print(
        f"--workers {workers}, {seconds} s at {per_worker} req/s each "
        f"({len(take)} snapshots a worker):\n"
        f"  worker snapshot: median {1e6 * statistics.median(take):.1f} us, "
        f"p99 {1e6 * take[int(0.99 * (len(take) - 1))]:.1f} us; "
        f"pipe send (pickling included): median {1e6 * statistics.median(send):.1f} us, "
        f"p99 {1e6 * send[int(0.99 * (len(send) - 1))]:.1f} us; "
        f"{statistics.median(sizes):,.0f} bytes a snapshot\n"
        f"  at 2 snapshots/s: {share:.4f} % of a worker's event loop\n"
        f"  parent: {workers} updates + one redraw: median "
        f"{1000 * statistics.median(draws):.2f} ms (off the workers' event loops)"
    )


if __name__ == "__main__":
    main()
