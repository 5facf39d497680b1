"""W2 capacity: the highest constant rate the harness holds, against a plain aioboto3 loop.

The emulator runs in its own process with docs/design.md's W2 profile: TTFT 50 ms, then 50 deltas
10 ms apart. Each configuration sends a constant rate for `--duration` seconds, stepping the
rate up by `--step` until a step is not held, then bisecting between the last rate held and
the first not held until they are `--resolution` req/s apart. Held: schedule lag p99 <= 5 ms
and achieved rate >= 99 % of the target. Configurations:
- plain:  asyncio + aioboto3 converse_stream in a loop, no harness (the baseline);
- sdk:    loadgen, one process, botocore throughout (target.stream_decoder: sdk, which
          implies target.request_path: sdk);
- lean:   loadgen, one process, the defaults: the lean decoder and the signed request path;
- lean, N workers: loadgen --workers N (with --workers N > 1).
CPU per streamed event is the generator's CPU time (all its processes) over the events read
(each answer: 50 deltas and 4 frames around them), at the highest rate held. Concurrent streams
are the mean number open at once there (Little's law: achieved rate x mean TTLT).
The last lines give the issue's ratios: one worker against the plain loop, and N workers
against N x one worker.

    .venv/bin/python benchmarks/capacity_w2.py [--duration 5] [--step 25] [--workers 2]
    .venv/bin/python benchmarks/capacity_w2.py --quick    # seconds: the smoke test's mode

On a shared machine the figures move with the other load: the table prints the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aioboto3
import numpy as np
from aiobotocore.config import AioConfig
from rich.console import Console
from rich.table import Table

from loadgen.config.scenario import Scenario, scenario_from_dict
from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.run import RunOptions, run
from loadgen.scale.workers import run_with_workers

MODEL = "w2"
DELTAS = 50
EVENTS_PER_ANSWER = DELTAS + 4  # messageStart, contentBlockStop, messageStop, metadata
LAG_P99_LIMIT_MS = 5.0
ACHIEVED_SHARE = 0.99


@dataclass
class Step:
    rate: float
    lag_p99_ms: float
    achieved_rps: float
    cpu_s: float
    events: int
    errors: int
    mean_ttlt_s: float = 0.0

    @property
    def streams(self) -> float:
        """Mean concurrent streams (Little's law)."""
        return self.achieved_rps * self.mean_ttlt_s

    @property
    def held(self) -> bool:
        return (
            self.lag_p99_ms <= LAG_P99_LIMIT_MS
            and self.achieved_rps >= ACHIEVED_SHARE * self.rate
            and self.errors == 0
        )

    @property
    def us_per_event(self) -> float:
        return 1e6 * self.cpu_s / self.events if self.events else float("nan")


def harness_step(url: str, rate: float, duration: float, decoder: str, workers: int) -> Step:
    scenario = _scenario(url, rate, duration, decoder)
    with tempfile.TemporaryDirectory() as out:
        # The preflight call warms the client (service model, endpoint rules), as the plain
        # loop's first call does.
        options = RunOptions(out_dir=Path(out), quiet=True, html=False)
        result = (
            run_with_workers(scenario, options, workers) if workers > 1 else run(scenario, options)
        )
    report: dict[str, Any] = result.report
    generator = report["run"]["generator"]
    model = report["models"][MODEL]
    per_worker = report["run"].get("workers")
    wall_s = report["run"]["wall_s"]
    if per_worker:  # each worker's CPU share of its own measured wall time
        cpu_s = sum(w["cpu_percent"] / 100 * w["wall_s"] for w in per_worker)
    else:
        cpu_s = generator["cpu_percent"] / 100 * wall_s
    requests = model["requests"]
    return Step(
        rate=rate,
        lag_p99_ms=generator["lag_ms"]["p99"] or 0.0,
        achieved_rps=generator["achieved_rps"] or 0.0,
        cpu_s=cpu_s,
        events=requests["ok"] * EVENTS_PER_ANSWER,
        errors=requests["sent"] - requests["ok"],
        mean_ttlt_s=(model["latency_ms"]["ttlt"]["response"]["mean"] or 0.0) / 1000,
    )


def _scenario(url: str, rate: float, duration: float, decoder: str) -> Scenario:
    return scenario_from_dict(
        {
            "name": "w2",
            "models": [MODEL],
            "prompt": {"template": "{body}"},
            "dataset": {"rows": [{"body": "hello " * 20}]},
            "inference": {"max_tokens": 1000},
            "load": {
                "rate": rate,
                "arrival": "constant",
                "duration": duration,
                "max_in_flight": 10_000,
            },
            "target": {"endpoint_url": url, "region": "us-east-1", "stream_decoder": decoder},
            "cost": {"allow_unpriced": True},
            "seed": 1,
        }
    )


async def _plain_loop(url: str, rate: float, duration: float) -> Step:
    """The baseline: what one writes without a harness. Lag is measured as the harness does."""
    session = aioboto3.Session(
        aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1"
    )
    config = AioConfig(retries={"total_max_attempts": 1}, max_pool_connections=10_000)
    loop = asyncio.get_running_loop()
    events = errors = 0
    durations: list[float] = []
    async with session.client("bedrock-runtime", endpoint_url=url, config=config) as client:

        async def one() -> None:
            nonlocal events, errors
            began = loop.time()
            try:
                response = await client.converse_stream(
                    modelId=MODEL,
                    messages=[{"role": "user", "content": [{"text": "hello " * 20}]}],
                    inferenceConfig={"maxTokens": 1000},
                )
                async for _ in response["stream"]:
                    events += 1
                durations.append(loop.time() - began)
            except Exception:
                errors += 1

        await one()  # the first call loads the service model: not part of the measure
        events = 0
        durations.clear()
        count = max(2, round(rate * duration))
        tasks = set()
        lags = []
        dispatched = []
        cpu_start = time.process_time()
        start = loop.time() + 0.1
        for index in range(count):
            intended = start + index / rate
            await asyncio.sleep(max(0.0, intended - loop.time()))
            now = loop.time()
            lags.append(now - intended)
            dispatched.append(now)
            task = asyncio.create_task(one())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
        cpu_s = time.process_time() - cpu_start
    span = dispatched[-1] - dispatched[0]
    return Step(
        rate=rate,
        lag_p99_ms=float(np.percentile(lags, 99)) * 1000,
        achieved_rps=(count - 1) / span if span > 0 else 0.0,
        cpu_s=cpu_s,
        events=events,
        errors=errors,
        mean_ttlt_s=float(np.mean(durations)) if durations else 0.0,
    )


def plain_step(url: str, rate: float, duration: float, decoder: str, workers: int) -> Step:
    return asyncio.run(_plain_loop(url, rate, duration))


def climb(
    measure: Any,
    url: str,
    rates: list[float],
    duration: float,
    *args: Any,
    every: bool = False,
    resolution: float = 0.0,
) -> list[Step]:
    """Step the rate up until a step is not held (`every`: go through all the rates), then
    bisect between the last rate held and the first not held down to `resolution` req/s."""
    steps = []
    for rate in rates:
        step = measure(url, rate, duration, *args)
        steps.append(step)
        if not step.held and not every:
            break
    if every or steps[-1].held or len(steps) < 2:
        return steps
    low, high = steps[-2].rate, steps[-1].rate
    while high - low > resolution:
        middle = round((low + high) / 2)
        step = measure(url, float(middle), duration, *args)
        steps.append(step)
        low, high = (middle, high) if step.held else (low, middle)
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per step")
    parser.add_argument("--start", type=float, default=25.0, help="first rate (req/s)")
    parser.add_argument("--step", type=float, default=25.0, help="rate added per step")
    parser.add_argument("--max-rate", type=float, default=800.0)
    parser.add_argument("--workers", type=int, default=2, help="also measure --workers N")
    parser.add_argument("--every-step", action="store_true", help="measure every rate, held or not")
    parser.add_argument(
        "--resolution", type=float, default=10.0, help="bisect to this many req/s (0: no bisection)"
    )
    parser.add_argument(
        "--only",
        default="plain,sdk,lean,workers",
        help="which configurations, comma-separated (plain, sdk, lean, workers)",
    )
    parser.add_argument("--quick", action="store_true", help="one 1 s step per configuration")
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    if args.quick:
        args.duration, args.start, args.step, args.max_rate = 1.0, 10.0, 10.0, 10.0
    rates = list(np.arange(args.start, args.max_rate + 1e-9, args.step))
    wanted = set(args.only.split(","))
    every_configuration: list[tuple[str, str, Any, str, int]] = [
        ("plain", "plain loop (asyncio + aioboto3)", plain_step, "sdk", 1),
        ("sdk", "loadgen, sdk decoder", harness_step, "sdk", 1),
        ("lean", "loadgen, lean decoder", harness_step, "lean", 1),
    ]
    if args.workers > 1:
        every_configuration.append(
            (
                "workers",
                f"loadgen, lean, --workers {args.workers}",
                harness_step,
                "lean",
                args.workers,
            )
        )
    configurations = [c[1:] for c in every_configuration if c[0] in wanted]
    profile = {"ttft_ms": 50, "itl_ms": 10, "output_tokens": DELTAS, "tokens_per_delta": 1}
    config = EmulatorConfig.model_validate({"profiles": {MODEL: profile}})
    console = Console(width=150)
    table = Table(title="W2 capacity (TTFT 50 ms, 50 deltas 10 ms apart, constant rate)")
    for column in (
        "configuration",
        "highest rate held",
        "lag p99 there",
        "CPU/event there",
        "concurrent streams there",
        "lowest rate not held",
        "load avg",
    ):
        table.add_column(column)
    detail = Table(title="every step")
    columns = ("configuration", "rate", "lag p99", "achieved", "CPU/event", "streams", "errors")
    for column in columns:
        detail.add_column(column)
    best_rates: dict[str, float] = {}
    with EmulatorProcess(config) as emulator:
        for name, measure, decoder, workers in configurations:
            load_before = os.getloadavg()[0]
            steps = climb(
                measure,
                emulator.url,
                rates,
                args.duration,
                decoder,
                workers,
                every=args.every_step,
                resolution=args.resolution,
            )
            for step in steps:
                detail.add_row(
                    name,
                    f"{step.rate:g}",
                    f"{step.lag_p99_ms:.1f} ms",
                    f"{100 * step.achieved_rps / step.rate:.1f} %",
                    f"{step.us_per_event:.0f} us",
                    f"{step.streams:.0f}",
                    str(step.errors),
                )
            held = [s for s in steps if s.held]
            best = max(held, key=lambda s: s.rate) if held else None
            failed = min((s for s in steps if not s.held), key=lambda s: s.rate, default=None)
            if failed is not None:  # a rate never refused says nothing about the ceiling
                best_rates[name] = best.rate if best else 0.0
            table.add_row(
                name,
                f"{best.rate:g} req/s" if best else "none",
                f"{best.lag_p99_ms:.1f} ms" if best else "-",
                f"{best.us_per_event:.0f} us" if best else "-",
                f"{best.streams:.0f}" if best else "-",
                (
                    f"{failed.rate:g} (lag p99 {failed.lag_p99_ms:.0f} ms, "
                    f"{100 * failed.achieved_rps / failed.rate:.0f} %, {failed.errors} err)"
                    if failed
                    else f"none up to {rates[-1]:g}"
                ),
                f"{load_before:.1f}-{os.getloadavg()[0]:.1f}",
            )
    console.print(detail)
    console.print(table)
    console.print(f"highest rate held: lag p99 <= {LAG_P99_LIMIT_MS:g} ms, achieved >= 99 %")
    for line in _ratios(best_rates, args.workers):
        console.print(line)
    console.print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()}")


def _ratios(best: dict[str, float], workers: int) -> list[str]:
    """The issue's two targets, as measured: one worker >= 2x the plain loop; N workers >=
    0.8 x N x one worker."""
    lines = []
    plain = best.get("plain loop (asyncio + aioboto3)")
    lean = best.get("loadgen, lean decoder")
    many = best.get(f"loadgen, lean, --workers {workers}")
    if plain and lean:
        lines.append(f"one worker / plain loop: {lean / plain:.2f}x (target >= 2x)")
    if lean and many:
        lines.append(
            f"{workers} workers / ({workers} x one worker): {many / (workers * lean):.2f} "
            "(target >= 0.8)"
        )
    return lines


if __name__ == "__main__":
    main()
