"""Soak: the generator's resident memory from 10 k to 1 M requests against the emulator.

Nothing per request is kept in memory (samples stream to JSONL, statistics live in fixed-size
HDR histograms), so RSS should be flat once warm. This runs the library in-process against
the emulator in its own process, counts the requests finished (the lines of samples.jsonl) and
samples its own RSS from /proc; it prints RSS at each milestone (10 k, 30 k, 100 k, 300 k,
1 M requests) and the change from the first milestone to the last.

    .venv/bin/python benchmarks/soak_rss.py                       # 1 M requests, closed loop
    .venv/bin/python benchmarks/soak_rss.py --requests 50000      # a shorter check
    .venv/bin/python benchmarks/soak_rss.py --rps 200             # open loop instead

The answers are short (3 deltas, 1 ms apart) so that a million requests take tens of minutes,
not days: memory per request is what is measured, and a request's size does not change what
is kept after it. Target (docs/design.md): flat within 10 % from 10 k to 1 M, under 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console

from loadgen.config.scenario import scenario_from_dict
from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.run import RunOptions, run_async

MILESTONES = (10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000, 10_000_000)


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


class LineCounter:
    """Counts the lines of a file that another task appends to, reading only what is new."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = 0
        self._offset = 0

    def update(self) -> int:
        if self.path.exists():
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                while block := handle.read(1 << 20):
                    self.lines += block.count(b"\n")
                    self._offset += len(block)
        return self.lines


def _load(requests: int, concurrency: int, rps: float | None) -> dict[str, object]:
    if rps is not None:
        return {"rate": rps, "arrival": "constant", "requests": requests}
    return {"concurrency": concurrency, "requests": requests}


async def soak(
    requests: int, concurrency: int, rps: float | None, every_s: float
) -> list[tuple[int, float, float]]:
    """(requests finished, seconds, RSS MB) at each milestone passed, then at the end."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    profile = {"ttft_ms": 1, "itl_ms": 1, "output_tokens": 3, "tokens_per_delta": 1}
    config = EmulatorConfig.model_validate({"profiles": {"soak": profile}})
    points: list[tuple[int, float, float]] = []
    with EmulatorProcess(config) as emulator, tempfile.TemporaryDirectory() as out:
        scenario = scenario_from_dict(
            {
                "name": "soak",
                "models": ["soak"],
                "prompt": {"template": "{body}"},
                "dataset": {"rows": [{"body": f"row {i} " * 40} for i in range(100)]},
                "inference": {"max_tokens": 100},
                "load": _load(requests, concurrency, rps),
                "target": {"endpoint_url": emulator.url, "region": "us-east-1"},
                "cost": {"allow_unpriced": True},
                "seed": 1,
            }
        )
        counter = LineCounter(Path(out) / "samples.jsonl")
        start = time.monotonic()
        pending = [m for m in MILESTONES if m <= requests]

        async def watch() -> None:
            while True:
                await asyncio.sleep(every_s)
                done = counter.update()
                while pending and done >= pending[0]:
                    pending.pop(0)
                    point = (done, time.monotonic() - start, rss_mb())
                    points.append(point)
                    print(f"{point[0]:>10,} requests  {point[1]:7.0f} s  {point[2]:7.1f} MB")

        watcher = asyncio.create_task(watch())
        options = RunOptions(out_dir=Path(out), quiet=True, html=False, console=Console(quiet=True))
        result = await run_async(scenario, options)
        watcher.cancel()
        points.append((counter.update(), time.monotonic() - start, rss_mb()))
        model = result.report["models"]["soak"]
        generator = result.report["run"]["generator"]
        print(
            f"requests sent {model['requests']['sent']}, ok {model['requests']['ok']}, "
            f"{generator['achieved_rps']} req/s, generator CPU {generator['cpu_percent']} %"
        )
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=32, help="closed loop: users")
    parser.add_argument("--rps", type=float, default=None, help="open loop at this rate instead")
    parser.add_argument("--every", type=float, default=2.0, help="seconds between checks")
    args = parser.parse_args()
    points = asyncio.run(soak(args.requests, args.concurrency, args.rps, args.every))
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()}")
    if len(points) >= 2:
        (first_n, _, first), (last_n, _, last) = points[0], points[-1]
        print(
            f"RSS {first:.1f} MB at {first_n:,} requests -> {last:.1f} MB at {last_n:,}: "
            f"{100 * (last - first) / first:+.1f} %"
        )


if __name__ == "__main__":
    main()
