"""Client CPU per streamed event, botocore's decoder against loadgen's lean one.

The emulator runs in its own process; this process drives the real Bedrock backend (aioboto3
signs and sends) with `concurrency` requests at a time, each answered with `deltas` text
deltas sent back to back, and divides this process's CPU time by the events it read.
`--profile` prints where the CPU went (cProfile, by cumulative time), per decoder.

    .venv/bin/python benchmarks/stream_cpu.py [--requests 200] [--deltas 50] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import time
from dataclasses import dataclass

from loadgen.backend import Request, Timeline
from loadgen.backends.bedrock import EMULATOR_CREDENTIALS, BedrockBackend
from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.prompts import Prompt
from loadgen.scenario import TargetSpec, TimeoutSpec

MODEL = "cpu-model"


@dataclass
class Measured:
    decoder: str
    events: int
    cpu_s: float
    errors: int

    @property
    def us_per_event(self) -> float:
        return 1e6 * self.cpu_s / self.events if self.events else float("nan")


async def measure(url: str, decoder: str, requests: int, deltas: int, concurrency: int) -> Measured:
    backend = BedrockBackend(
        TargetSpec(endpoint_url=url, region="us-east-1", stream_decoder=decoder),
        TimeoutSpec(),
        pool_size=concurrency,
        static_credentials=EMULATOR_CREDENTIALS,
    )
    await backend.start()
    errors = 0
    try:
        prompt = Prompt("r", None, "hello " * 20)
        # One warm-up request: the first call loads the service model.
        await backend.execute(Request(0, MODEL, prompt, max_tokens=deltas), Timeline())
        semaphore = asyncio.Semaphore(concurrency)

        async def one(index: int) -> Timeline:
            async with semaphore:
                timeline = Timeline()
                await backend.execute(Request(index, MODEL, prompt, max_tokens=deltas), timeline)
                return timeline

        cpu_start = time.process_time()
        timelines = await asyncio.gather(*(one(i) for i in range(1, requests + 1)))
        cpu_s = time.process_time() - cpu_start
    finally:
        await backend.close()
    errors = sum(t.error is not None for t in timelines)
    # Per request: messageStart, contentBlockStart?, deltas, contentBlockStop, messageStop,
    # metadata. Count what the backend saw: text deltas plus the frames around them.
    events = sum((t.output_tokens or 0) + 4 for t in timelines)
    return Measured(decoder, events, cpu_s, errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--deltas", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--profile", action="store_true", help="print cProfile's top entries")
    args = parser.parse_args()
    profile = {"ttft_ms": 1, "itl_ms": 0, "output_tokens": args.deltas, "tokens_per_delta": 1}
    config = EmulatorConfig.model_validate({"profiles": {MODEL: profile}})
    with EmulatorProcess(config) as emulator:
        for decoder in ("sdk", "lean"):
            profiler = cProfile.Profile() if args.profile else None
            if profiler is not None:
                profiler.enable()
            result = asyncio.run(
                measure(emulator.url, decoder, args.requests, args.deltas, args.concurrency)
            )
            if profiler is not None:
                profiler.disable()
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
                print(text.getvalue())
            print(
                f"{decoder:5} {result.us_per_event:7.1f} us CPU per streamed event "
                f"({result.events} events, {result.cpu_s:.2f} s CPU, {result.errors} errors, "
                f"load average {os.getloadavg()[0]:.1f})"
            )


if __name__ == "__main__":
    main()
