"""Client CPU per streamed event and per request: botocore's decoder against loadgen's lean
one, and botocore's request pipeline against loadgen's signed requests.

The emulator runs in its own process; this process drives the real Bedrock backend with
`concurrency` requests at a time, each answered with `deltas` text deltas (back to back, or
`--itl-ms` apart), and divides this process's CPU time by the events it read and by the
requests it sent. Configurations (decoder / request path): sdk/sdk (botocore throughout),
lean/sdk (botocore builds, signs and sends; loadgen decodes), lean/signed (loadgen builds,
botocore signs, loadgen decodes: the default). `--request-path` keeps only the configurations
with that request path. `--profile` prints where the CPU went (cProfile, cumulative time).

    .venv/bin/python benchmarks/stream_cpu.py [--requests 200] [--deltas 50] [--itl-ms 0]
        [--concurrency 20] [--request-path signed|sdk] [--profile]
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

from loadgen.backends.bedrock import EMULATOR_CREDENTIALS, BedrockBackend
from loadgen.config.scenario import TargetSpec, TimeoutSpec
from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.engine.backend import Timeline
from loadgen.engine.request import Prompt, Request

MODEL = "cpu-model"


# (stream decoder, request path), in the order printed.
CONFIGURATIONS = [("sdk", "sdk"), ("lean", "sdk"), ("lean", "signed")]


@dataclass
class Measured:
    decoder: str
    request_path: str
    requests: int
    events: int
    cpu_s: float
    errors: int

    @property
    def us_per_event(self) -> float:
        return 1e6 * self.cpu_s / self.events if self.events else float("nan")

    @property
    def us_per_request(self) -> float:
        return 1e6 * self.cpu_s / self.requests if self.requests else float("nan")


async def measure(
    url: str, decoder: str, request_path: str, requests: int, deltas: int, concurrency: int
) -> Measured:
    backend = BedrockBackend(
        TargetSpec(
            endpoint_url=url,
            region="us-east-1",
            stream_decoder=decoder,
            request_path=request_path,
        ),
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
    return Measured(decoder, request_path, requests, events, cpu_s, errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--deltas", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--itl-ms", type=float, default=0, help="gap between deltas (W2: 10); 0 sends them at once"
    )
    parser.add_argument(
        "--request-path",
        choices=["signed", "sdk"],
        help="only the configurations with this request path (default: all three)",
    )
    parser.add_argument("--profile", action="store_true", help="print cProfile's top entries")
    args = parser.parse_args()
    configurations = [
        (decoder, path) for decoder, path in CONFIGURATIONS if args.request_path in (None, path)
    ]
    profile = {
        "ttft_ms": 1,
        "itl_ms": args.itl_ms,
        "output_tokens": args.deltas,
        "tokens_per_delta": 1,
    }
    config = EmulatorConfig.model_validate({"profiles": {MODEL: profile}})
    with EmulatorProcess(config) as emulator:
        print(
            f"client CPU per streamed event and per request ({args.deltas} deltas an answer, "
            f"{args.itl_ms:g} ms apart, {args.concurrency} at a time)"
        )
        print("decoder request  us CPU/event  us CPU/request  events  CPU s  errors  load avg")
        for decoder, request_path in configurations:
            profiler = cProfile.Profile() if args.profile else None
            if profiler is not None:
                profiler.enable()
            result = asyncio.run(
                measure(
                    emulator.url,
                    decoder,
                    request_path,
                    args.requests,
                    args.deltas,
                    args.concurrency,
                )
            )
            if profiler is not None:
                profiler.disable()
                text = io.StringIO()
                pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
                print(text.getvalue())
            print(
                f"{decoder:7} {request_path:7} {result.us_per_event:12.1f} "
                f"{result.us_per_request:15.0f} {result.events:7} {result.cpu_s:6.2f} "
                f"{result.errors:7} {os.getloadavg()[0]:9.1f}"
            )


if __name__ == "__main__":
    main()
