"""How close to the log's instants a replay's requests arrive: a figure that needs a quiet
machine (tests/e2e/test_replay.py checks the plan, not the wall clock).

Issue 18's check: a generated invocation log with known instants, replayed at 1x and 4x against
an independent Bedrock-protocol server that logs arrival times; arrivals equal the log's
instants / speed within 1 ms at p99.

- The log: `--calls` Converse-stream calls over `--seconds`, two thirds at uniformly drawn
  instants and the rest in bursts of 20 calls 2 ms apart, logged to the microsecond (so the
  instants are known exactly: no spreading within a second). Each call's logged prompt starts
  with its number, which is how the server tells which call arrived.
- The server: a minimal aiohttp app in its own process, nothing of loadgen's: it stamps
  `time.time()` as each request's handler starts, then answers a tiny valid ConverseStream
  (an AWS event stream: messageStart, one text delta, contentBlockStop, messageStop,
  metadata).
- `loadgen replay` (a subprocess, as a user runs it) against it, at each `--speeds`.

Printed per speed: arrival - expected (expected: the log's instant / speed), aligned on the
first call and on the median (one constant removed: the replay's t0 is not the log's), p50 /
p99 / max in ms; and where the time goes on loadgen's side, from its samples.jsonl: schedule
lag (dispatch - intended) and send delay (on the socket - intended).

    .venv/bin/python benchmarks/replay_arrivals.py [--calls 600] [--seconds 60] [--speeds 1,4]
"""

from __future__ import annotations

import argparse
import binascii
import contextlib
import json
import math
import multiprocessing
import os
import random
import re
import struct
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
MODEL = "amazon.nova-lite-v1:0"
START = datetime(2025, 6, 3, 14, 0, 0, tzinfo=UTC)
BURST, BURST_GAP_S = 20, 0.002
_CALL = re.compile(rb"call-(\d{6})")


# -- the log ----------------------------------------------------------------------------------


def log_instants(calls: int, seconds: float, seed: int) -> list[float]:
    """Offsets (s) of the calls from START, sorted: a third in bursts, the rest uniform."""
    rng = random.Random(seed)
    bursts = max(1, calls // 3 // BURST)
    instants = []
    for _ in range(bursts):
        start = rng.uniform(0, seconds - BURST * BURST_GAP_S)
        instants += [start + k * BURST_GAP_S for k in range(BURST)]
    instants += [rng.uniform(0, seconds) for _ in range(calls - len(instants))]
    return sorted(instants)


def write_log(path: Path, instants: list[float]) -> None:
    lines = []
    for number, offset in enumerate(instants):
        moment = START + timedelta(microseconds=round(offset * 1e6))
        text = f"call-{number:06d} " + "words of a logged prompt " * 8
        lines.append(
            json.dumps(
                {
                    "schemaType": "ModelInvocationLog",
                    "schemaVersion": "1.0",
                    "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "operation": "ConverseStream",
                    "modelId": MODEL,
                    "input": {
                        "inputBodyJson": {
                            "messages": [{"role": "user", "content": [{"text": text}]}]
                        },
                        "inputTokenCount": 60,
                    },
                    "output": {"outputTokenCount": 8},
                }
            )
        )
    path.write_text("\n".join(lines) + "\n")


# -- the independent server -------------------------------------------------------------------


def _event(event_type: str, payload: dict[str, Any]) -> bytes:
    """One AWS event stream message (prelude, CRCs, string headers, JSON payload)."""
    headers = b""
    for name, value in (
        (":event-type", event_type),
        (":content-type", "application/json"),
        (":message-type", "event"),
    ):
        encoded = value.encode()
        headers += bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(encoded))
        headers += encoded
    body = json.dumps(payload).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", binascii.crc32(prelude))
    message = prelude + headers + body
    return message + struct.pack(">I", binascii.crc32(message))


STREAM = b"".join(
    [
        _event("messageStart", {"role": "assistant"}),
        _event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "ok"}}),
        _event("contentBlockStop", {"contentBlockIndex": 0}),
        _event("messageStop", {"stopReason": "end_turn"}),
        _event(
            "metadata",
            {
                "usage": {"inputTokens": 60, "outputTokens": 1, "totalTokens": 61},
                "metrics": {"latencyMs": 1},
            },
        ),
    ]
)


def serve(port_out: Any, stop: Any) -> None:
    """The server process: stamps each request's arrival, answers, reports the stamps."""
    import asyncio

    from aiohttp import web

    # (unix s, call number, a preflight probe, the client's port: its connection)
    arrivals: list[tuple[float, int | None, bool, int]] = []

    async def converse_stream(request: web.Request) -> web.Response:
        arrived = time.time()
        raw = await request.read()
        found = _CALL.search(raw)
        probe = b'"maxTokens": 1,' in raw or b'"maxTokens":1,' in raw or b'"maxTokens":1}' in raw
        peer = request.transport.get_extra_info("peername") if request.transport else None
        port = peer[1] if peer else 0
        arrivals.append((arrived, int(found.group(1)) if found else None, probe, port))
        return web.Response(body=STREAM, content_type="application/vnd.amazon.eventstream")

    async def report(_: web.Request) -> web.Response:
        return web.json_response(arrivals)

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/model/{model}/converse-stream", converse_stream)
        app.router.add_get("/arrivals", report)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_out.put(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        while not stop.is_set():
            await asyncio.sleep(0.2)
        await runner.cleanup()

    with contextlib.suppress(OSError):  # raised priority where allowed: its lateness is not
        os.nice(-5)  # the replay's
    asyncio.run(main())


# -- measuring --------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def figures(values_ms: list[float]) -> str:
    return (
        f"p50 {percentile(values_ms, 50):6.3f}  p99 {percentile(values_ms, 99):6.3f}  "
        f"max {max(values_ms):6.3f} ms"
    )


def replay_once(log: Path, url: str, speed: float, out: Path) -> None:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKEFAKE"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "fake-secret"),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "loadgen.cli",
            "replay",
            str(log),
            "--endpoint-url",
            url,
            "--speed",
            str(speed),
            "--allow-unpriced",
            "--no-html",
            "--quiet",
            "--force",
            "--out",
            str(out),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        sys.exit(f"loadgen replay failed ({completed.returncode}):\n{completed.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--speeds", default="1,4")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    import urllib.request

    instants = log_instants(args.calls, args.seconds, args.seed)
    context = multiprocessing.get_context("spawn")
    port_out, stop = context.Queue(), context.Event()
    server = context.Process(target=serve, args=(port_out, stop), daemon=True)
    server.start()
    url = f"http://127.0.0.1:{port_out.get(timeout=30)}"
    bursts = f"{BURST}-call bursts {BURST_GAP_S * 1e3:g} ms apart"
    print(f"{len(instants)} calls over {args.seconds:g} s ({bursts})")
    try:
        with tempfile.TemporaryDirectory() as folder:
            log = Path(folder) / "log.jsonl"
            write_log(log, instants)
            for speed in (float(s) for s in args.speeds.split(",")):
                with urllib.request.urlopen(f"{url}/arrivals") as response:
                    before = len(json.load(response))
                out = Path(folder) / f"out-{speed:g}"
                replay_once(log, url, speed, out)
                with urllib.request.urlopen(f"{url}/arrivals") as response:
                    seen = json.load(response)[before:]
                arrived = {
                    number: at for at, number, probe, _ in seen if number is not None and not probe
                }
                connections = len({port for *_, port in seen})
                missing = len(instants) - len(arrived)
                pairs = [(arrived[n], instants[n] / speed) for n in sorted(arrived)]
                offsets = [got - want for got, want in pairs]
                first = offsets[0]
                median = percentile(offsets, 50)
                print(
                    f"\nspeed {speed:g}x: {len(pairs)} arrivals ({missing} missing) on "
                    f"{connections} connections"
                )
                by_first = [abs(o - first) * 1e3 for o in offsets]
                by_median = [abs(o - median) * 1e3 for o in offsets]
                print(f"  arrival - expected, first aligned:  {figures(by_first)}")
                print(f"  arrival - expected, median aligned: {figures(by_median)}")
                # Calls within 10 ms of another (bursts) against the rest.
                close = [
                    any(
                        abs(instants[n] - instants[m]) < 0.01
                        for m in (n - 1, n + 1)
                        if 0 <= m < len(instants)
                    )
                    for n in sorted(arrived)
                ]
                for name, keep in (("in bursts", True), ("alone", False)):
                    part = [e for e, c in zip(by_median, close, strict=True) if c == keep]
                    if part:
                        print(f"    {name:9} ({len(part):3}):              {figures(part)}")
                samples = [
                    json.loads(line)
                    for line in (out / "samples.jsonl").read_text().splitlines()
                    if line.strip()
                ]
                samples = [s for s in samples if "intended_us" in s and not s.get("warmup")]
                lag = [(s["dispatch_us"] - s["intended_us"]) / 1e3 for s in samples]
                sent = [
                    (s["send_us"] - s["intended_us"]) / 1e3
                    for s in samples
                    if s.get("send_us") is not None
                ]
                print(f"  loadgen schedule lag (dispatch - intended): {figures(lag)}")
                if sent:
                    print(f"  loadgen send delay (socket - intended):     {figures(sent)}")
                # When the latest were due (a stall makes a run of them, a cost per request
                # spreads them) and how late: where the tail comes from.
                worst = sorted(samples, key=lambda s: s["dispatch_us"] - s["intended_us"])[-5:]
                late = ", ".join(
                    f"{s['intended_us'] / 1e6:.3f} s "
                    f"+{(s['dispatch_us'] - s['intended_us']) / 1e3:.1f}"
                    for s in sorted(worst, key=lambda s: s["intended_us"])
                )
                print(f"  latest dispatches (intended, ms late): {late}")
    finally:
        stop.set()
        server.join(timeout=10)


if __name__ == "__main__":
    main()
