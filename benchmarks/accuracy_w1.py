"""W1 accuracy: how far loadgen's TTFT, ITL and TTLT are from what the endpoint did.

The emulator runs in its own process (raised priority where allowed) with a fixed profile:
TTFT 200 ms, then 50 deltas 20 ms apart (TTLT 1180 ms), at a constant 20 req/s. The emulator
records how late each of its own writes was, so "what the endpoint did" is known: its request
log gives, for every request, when the first delta was actually written (`first_write_ms`),
and the requests are paired with loadgen's samples in the order they were sent. The TTFT
error is then loadgen's TTFT minus what the endpoint did, request by request (the loopback
network included, as any client sees it); the error against the planned 200 ms is printed too.

    .venv/bin/python benchmarks/accuracy_w1.py [--duration 30] [--rps 20] [--progress] [--quality]

--progress draws the live progress view all the run (into /dev/null, as on a terminal), to
show that it costs the measurement nothing.

--quality gives the row key facts and a reference summary, so the run keeps every response's
text and scores it after the run (docs/quality.md): the figures must not move.

Target (docs/design.md): TTFT within +1 ms (p50) and +2 ms (p99); ITL exact to 0.5 ms; tokens exact.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console

from loadgen.config.scenario import scenario_from_dict
from loadgen.core.sample import read_samples
from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.run import RunOptions, run

TTFT_MS, ITL_MS, DELTAS = 200.0, 20.0, 50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--rps", type=float, default=20.0)
    parser.add_argument("--progress", action="store_true", help="draw live progress meanwhile")

    parser.add_argument("--quality", action="store_true", help="capture and score responses")
    args = parser.parse_args()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    profile = {"ttft_ms": TTFT_MS, "itl_ms": ITL_MS, "output_tokens": DELTAS}
    config = EmulatorConfig.model_validate({"profiles": {"w1": profile}})
    with (
        contextlib.ExitStack() as stack,
        tempfile.TemporaryDirectory() as out,
        EmulatorProcess(config, log_path=Path(out) / "emulator.jsonl") as emulator,
    ):
        scenario = scenario_from_dict(
            {
                "name": "w1",
                "models": ["w1"],
                "prompt": {"template": "{body}"},
                "dataset": {"rows": [_row(args.quality)]},
                "inference": {"max_tokens": 1000},
                "load": {"rate": args.rps, "arrival": "constant", "duration": args.duration},
                "target": {"endpoint_url": emulator.url, "region": "us-east-1"},
                "cost": {"allow_unpriced": True},  # a synthetic model: no price
                "seed": 1,
            }
        )
        options = RunOptions(out_dir=Path(out), quiet=True, html=False)
        if args.progress:
            sink = stack.enter_context(open(os.devnull, "w"))  # closed by the stack
            options.progress = True
            options.console = Console(file=sink, force_terminal=True, width=120)
        result = run(scenario, options)
        stats = emulator.stats()
        errors = _ttft_errors_ms(Path(out) / "samples.jsonl", Path(out) / "emulator.jsonl")
    report = result.report
    model = report["models"]["w1"]
    latency = model["latency_ms"]
    ttft, itl, ttlt = latency["ttft"]["service"], latency["itl"], latency["ttlt"]["service"]
    ttlt_truth = TTFT_MS + (DELTAS - 1) * ITL_MS
    console = Console()
    console.print(
        f"W1{' with live progress' if args.progress else ''}: "
        f"{args.rps:g} req/s constant for {args.duration:g} s, "
        f"{model['requests']['ok']}/{model['requests']['sent']} ok"
    )
    console.print(
        f"TTFT service  p50 {ttft['p50'] - TTFT_MS:+.2f} ms  p99 {ttft['p99'] - TTFT_MS:+.2f} ms"
        "   (target +1 / +2 ms)"
    )
    if errors is not None:
        console.print(
            f"TTFT against what the endpoint did, request by request ({errors.size} paired): "
            f"p50 {np.percentile(errors, 50):+.2f} ms  p99 {np.percentile(errors, 99):+.2f} ms"
        )
    else:
        console.print("TTFT against what the endpoint did: samples and log did not pair")
    console.print(
        f"ITL           p50 {itl['p50'] - ITL_MS:+.2f} ms  p99 {itl['p99'] - ITL_MS:+.2f} ms"
    )
    console.print(
        f"TTLT service  p50 {ttlt['p50'] - ttlt_truth:+.2f} ms"
        f"  p99 {ttlt['p99'] - ttlt_truth:+.2f} ms"
    )
    console.print(
        f"output tokens total {model['tokens']['output']['total']} "
        f"(expected {model['requests']['ok'] * DELTAS})"
    )
    generator = report["run"]["generator"]
    console.print(
        f"generator lag p99 {generator['lag_ms']['p99']} ms, CPU {generator['cpu_percent']} %, "
        f"achieved {generator['achieved_rps']} req/s"
    )
    if model.get("quality"):
        console.print(f"quality scored {model['quality']['scored']} responses")
    console.print(f"emulator write lateness: {stats.get('lateness') if stats else 'unavailable'}")


def _ttft_errors_ms(samples_path: Path, log_path: Path) -> np.ndarray | None:
    """loadgen's TTFT minus the emulator's first_write_ms for each request, paired in the
    order they were sent and received (constant arrivals 50 ms apart do not overtake)."""
    samples = sorted(
        (s for s in read_samples(samples_path) if not s.warmup),
        key=lambda s: s.send_us if s.send_us is not None else s.intended_us,
    )
    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]
    lines.sort(key=lambda line: line["received_unix"])
    # The run's preflight call reaches the emulator before the first request: drop it.
    lines = lines[len(lines) - len(samples) :] if len(lines) >= len(samples) else []
    if len(samples) != len(lines) or not samples:
        return None
    errors = [
        sample.ttft_service_us / 1000 - line["first_write_ms"]
        for sample, line in zip(samples, lines, strict=True)
        if sample.ttft_service_us is not None and "first_write_ms" in line
    ]
    return np.array(errors) if errors else None


def _row(quality: bool) -> dict[str, object]:
    row: dict[str, object] = {"id": "w1", "body": "hello " * 50}
    if quality:
        row["key_facts"] = {"people": ["Ada"], "dates": ["March 13"], "amounts": ["$1.92M"]}
        row["reference_summary"] = "Ada reports $1.92M by March 13."
    return row


if __name__ == "__main__":
    main()
