"""CPU of loadgen's own per-request and per-event work, without the network.

What `stream_cpu.py` does not see: what happens to a request after the backend is done with
it (Timeline -> Sample, the Recorder's histograms, the samples.jsonl line), and the lean
decoder on its own (frames of a W2 answer fed one per chunk, as they arrive 10 ms apart).
Everything runs in this process on synthetic data, so the figures are stable enough to
compare before and after a change (process CPU time, best of `--repeat`).

    .venv/bin/python benchmarks/record_cpu.py [--requests 3000] [--deltas 50] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from loadgen.backends.lean_eventstream import lean_events
from loadgen.core.sample import Sample
from loadgen.emulator.eventstream import event_frame
from loadgen.engine.backend import Timeline
from loadgen.engine.request import Prompt, Request
from loadgen.record.recorder import Recorder
from loadgen.sinks.jsonl import JsonlSink

MODEL = "us.amazon.nova-lite-v1:0"


def timelines(requests: int, deltas: int) -> list[Timeline]:
    """Finished timelines of W2-like answers: `deltas` deltas about 10 ms apart."""
    rng = random.Random(1)
    made = []
    for index in range(requests):
        timeline = Timeline()
        start = 1_000_000_000 + index * 10_000_000
        timeline.send_ns = start + 200_000
        instant = start + 300_000_000
        timeline.first_token_ns = instant
        for _ in range(deltas):
            timeline.delta_ns.append(instant)
            instant += 10_000_000 + rng.randrange(-500_000, 500_000)
        timeline.end_ns = instant
        timeline.input_tokens = 120
        timeline.output_tokens = deltas
        timeline.server_latency_ms = (instant - start) // 1_000_000 - 1
        timeline.stop_reason = "end_turn"
        made.append(timeline)
    return made


def to_samples(made: list[Timeline]) -> list[Sample]:
    prompt = Prompt("row-1", None, "hello")
    return [
        timeline.to_sample(
            request=Request(index, MODEL, prompt, max_tokens=100),
            t0_ns=1_000_000_000,
            intended_ns=1_000_000_000 + index * 10_000_000,
            dispatch_ns=1_000_000_000 + index * 10_000_000 + 50_000,
            warmup=False,
        )
        for index, timeline in enumerate(made)
    ]


def best_cpu_us(work: Callable[[], int], repeat: int) -> float:
    """The lowest CPU time per unit of `work` (which returns how many units it did)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        units = work()
        best = min(best, (time.process_time() - start) / units)
    return best * 1e6


def answer_chunks(deltas: int) -> list[bytes]:
    """A ConverseStream answer as the emulator sends it, one frame per chunk."""
    frames = [event_frame("messageStart", {"role": "assistant"})]
    frames += [
        event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": " word"}})
        for _ in range(deltas)
    ]
    frames.append(event_frame("contentBlockStop", {"contentBlockIndex": 0}))
    frames.append(event_frame("messageStop", {"stopReason": "end_turn"}))
    usage = {"inputTokens": 120, "outputTokens": deltas, "totalTokens": 120 + deltas}
    frames.append(event_frame("metadata", {"usage": usage, "metrics": {"latencyMs": 512}}))
    return frames


class _Content:
    """What lean_events reads of aiohttp's response: `content.iter_chunks()`/`iter_any()`."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks

    async def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        for chunk in self.chunks:
            yield chunk, True

    async def iter_any(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk


class _RawStream:
    def __init__(self, chunks: list[bytes]) -> None:
        self.content = _Content(chunks)


def decode_events(chunks: list[bytes], answers: int) -> int:
    async def read_all() -> int:
        events = 0
        for _ in range(answers):
            async for _event in lean_events(_RawStream(chunks), "ConverseStream"):
                events += 1
        return events

    return asyncio.run(read_all())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--deltas", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    made = timelines(args.requests, args.deltas)
    samples = to_samples(made)

    def recorder_add() -> int:
        recorder = Recorder()
        for sample in samples:
            recorder.add(sample)
        return len(samples)

    with tempfile.TemporaryDirectory() as folder:

        def sink_add() -> int:
            sink = JsonlSink(Path(folder) / "samples.jsonl")
            sink.start()
            for sample in samples:
                sink.add(sample)
            sink.stop()
            return len(samples)

        rows = {
            "Timeline.to_sample": best_cpu_us(lambda: len(to_samples(made)), args.repeat),
            "Recorder.add": best_cpu_us(recorder_add, args.repeat),
            "JsonlSink.add": best_cpu_us(sink_add, args.repeat),
        }
    chunks = answer_chunks(args.deltas)
    answers = max(args.requests // 10, 1)
    per_event = best_cpu_us(lambda: decode_events(chunks, answers), args.repeat)
    print(f"per request ({args.deltas} deltas), CPU us (best of {args.repeat}):")
    for name, value in rows.items():
        print(f"  {name:20} {value:7.1f}")
    print(f"  {'total':20} {sum(rows.values()):7.1f}")
    print(
        f"lean_events, one frame per chunk: {per_event:.2f} us per event "
        f"({len(chunks)} events an answer)"
    )
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
