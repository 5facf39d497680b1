"""What one redraw of the live progress view costs the event loop.

A run's state is built as after a long, busy run (three models, `--seconds` of samples at
`--rps`, some throttled), then the view is drawn into /dev/null as on a terminal, many times.
The live view redraws every 0.5 s on the event loop: its cost per redraw is the most it can
delay a request that is due at that moment. Each redraw here starts from a fresh view (no
cached TTFT percentiles), the worst case; a run recomputes them once a second.

    .venv/bin/python benchmarks/progress_cost.py [--seconds 600] [--rps 100] [--redraws 200]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time

from rich.console import Console
from rich.live import Live

from loadgen.clock import MonotonicClock
from loadgen.live_progress import LiveProgress
from loadgen.recorder import Recorder
from loadgen.sample import ErrorClass, Sample
from loadgen.scenario import scenario_from_dict

MODELS = ["us.amazon.nova-lite-v1:0", "us.amazon.nova-pro-v1:0", "us.anthropic.claude-3-7"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("--rps", type=int, default=100)
    parser.add_argument("--redraws", type=int, default=200)
    args = parser.parse_args()
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
        start = index * 1_000_000 // args.rps
        ttft = chance.randint(150_000, 600_000)
        throttled = chance.random() < 0.02
        recorder.add(
            Sample(
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
        )
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


if __name__ == "__main__":
    main()
