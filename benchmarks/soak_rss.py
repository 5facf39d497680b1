"""Soak: the generator's resident memory over a long run against the emulator.

Nothing per request is kept in memory (samples stream to JSONL, statistics live in fixed-size
HDR histograms), so RSS should be flat once warm. This runs the library in-process, samples its
own RSS every few seconds from /proc, and prints the series and its spread.

    .venv/bin/python benchmarks/soak_rss.py [--minutes 10] [--rps 50]

Target (DESIGN.md): flat within ±10 % after warm-up, under 150 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from rich.console import Console

from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.run import RunOptions, run_async
from loadgen.scenario import scenario_from_dict


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        pages = int(handle.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


async def soak(minutes: float, rps: float, interval_s: float) -> list[tuple[float, float]]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    profile = {"ttft_ms": 100, "itl_ms": 10, "output_tokens": 30, "output_tokens_jitter": 10}
    config = EmulatorConfig.model_validate({"profiles": {"soak": profile}})
    series: list[tuple[float, float]] = []
    with EmulatorProcess(config) as emulator, tempfile.TemporaryDirectory() as out:
        scenario = scenario_from_dict(
            {
                "name": "soak",
                "models": ["soak"],
                "prompt": {"template": "{body}"},
                "dataset": {"rows": [{"body": f"row {i} " * 40} for i in range(100)]},
                "load": {"rate": rps, "arrival": "poisson", "duration": minutes * 60},
                "target": {"endpoint_url": emulator.url, "region": "us-east-1"},
                "cost": {"allow_unpriced": True},
                "seed": 1,
            }
        )
        start = time.monotonic()

        async def sample_rss() -> None:
            while True:
                series.append((time.monotonic() - start, rss_mb()))
                await asyncio.sleep(interval_s)

        sampler = asyncio.create_task(sample_rss())
        options = RunOptions(out_dir=Path(out), quiet=True, console=Console(quiet=True))
        result = await run_async(scenario, options)
        sampler.cancel()
        model = result.report["models"]["soak"]
        print(
            f"requests sent {model['requests']['sent']}, ok {model['requests']['ok']}, "
            f"generator CPU {result.report['run']['generator']['cpu_percent']} %"
        )
    return series


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rps", type=float, default=50.0)
    parser.add_argument("--interval", type=float, default=15.0)
    args = parser.parse_args()
    series = asyncio.run(soak(args.minutes, args.rps, args.interval))
    for elapsed, rss in series:
        print(f"{elapsed:7.0f} s  {rss:7.1f} MB")
    warm = [rss for elapsed, rss in series if elapsed >= 60] or [rss for _, rss in series]
    low, high = min(warm), max(warm)
    print(
        f"after the first minute: min {low:.1f} MB, max {high:.1f} MB, "
        f"spread {100 * (high - low) / low:.1f} %"
    )


if __name__ == "__main__":
    main()
