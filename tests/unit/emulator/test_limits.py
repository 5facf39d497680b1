"""Quotas, capacity and the injection log: the buckets in virtual time (an injected clock),
then the whole emulator over real sockets: throttles where the bucket says, a knee where the
slots say, and a log line for each request that matches what the client saw."""

from __future__ import annotations

import asyncio
import json
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import botocore.eventstream
import pytest

from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.emulator.capacity import Slots
from loadgen.emulator.overrides import apply_overrides, parse_fault
from loadgen.emulator.profiles import Capacity, Quota
from loadgen.emulator.quotas import QuotaGate
from tests.emulator_log import (
    CLIENT_MEDIAN_MS,
    EmulatorLog,
    planned_first_ms,
    planned_last_ms,
)

BODY = {
    "messages": [{"role": "user", "content": [{"text": "x" * 400}]}],  # 100 input tokens
    "inferenceConfig": {"maxTokens": 900},
}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _offer(gate: QuotaGate, clock: Clock, rate: float, seconds: float, reserved: int = 1) -> float:
    """Offer `rate` requests a second for `seconds`, evenly spaced: the share throttled."""
    count = round(rate * seconds)
    refused = 0
    for index in range(count):
        clock.now = index / rate
        refused += gate.admit(reserved) is not None
    return refused / count


@pytest.mark.parametrize(
    ("burst_s", "seconds"),
    [(10.0, 30.0), (60.0, 30.0), (60.0, 90.0), (1.0, 30.0)],
)
def test_rpm_bucket_throttles_the_share_it_predicts(burst_s: float, seconds: float) -> None:
    # 600 RPM refills 10 a second and holds burst_s seconds of that; 20/s are offered.
    clock = Clock()
    gate = QuotaGate(Quota(rpm=600, burst_s=burst_s), clock)
    share = _offer(gate, clock, rate=20, seconds=seconds)
    offered = 20 * seconds
    last = (offered - 1) / 20
    predicted = max(0.0, 1 - (10 * burst_s + 10 * last) / offered)
    assert share == pytest.approx(predicted, abs=0.02)
    assert gate.throttled["rpm"] == round(share * offered) and gate.throttled["tpm"] == 0


def test_tpm_reserves_max_tokens_up_front_and_settles_later() -> None:
    clock = Clock()
    gate = QuotaGate(Quota(tpm=60_000, burst_s=60, output_burndown=5), clock)
    reserved = gate.reservation(input_tokens=100, max_tokens=900)
    assert reserved == 100 + 900  # the burndown does not multiply the reservation
    admitted = 0
    while gate.admit(reserved) is None:
        admitted += 1
    assert admitted == 60_000 // reserved  # the full minute's tokens, reserved at once
    assert gate.throttled == {"rpm": 0, "tpm": 1, "tpd": 0}
    # Each used 100 + 5 x 50 tokens: what it did not use comes back at once.
    for _ in range(admitted):
        gate.settle(reserved, gate.usage(100, 50))
    assert gate.admit(reserved) is None
    clock.now = 1.0  # and the bucket refills 1,000 tokens a second
    assert gate.tokens is not None and gate.tokens.has(0, clock.now)
    assert gate.tokens.level == pytest.approx(60_000 - admitted * 350 - reserved + 1000)


async def test_slots_are_handed_over_in_arrival_order() -> None:
    slots = Slots(Capacity(slots=2, queue_limit=3))
    assert await slots.acquire() and await slots.acquire()
    order: list[int] = []

    async def wait(index: int) -> None:
        assert await slots.acquire()
        order.append(index)

    waiters = [asyncio.create_task(wait(i)) for i in range(3)]
    await asyncio.sleep(0)
    assert slots.queued == 3 and not await slots.acquire()  # the queue is full
    cancelled = asyncio.create_task(wait(9))
    await asyncio.sleep(0)
    for _ in range(3):
        slots.release()
        await asyncio.sleep(0)
    await asyncio.gather(*waiters)
    cancelled.cancel()
    assert order == [0, 1, 2] and slots.busy == 2 and slots.queued == 0
    assert slots.stats()["rejected"] == 2 and slots.stats()["max_queued"] == 3


# --- over real sockets ----------------------------------------------------------------------


async def _converse(session: aiohttp.ClientSession, url: str, model: str) -> tuple[int, Any]:
    async with session.post(f"{url}/model/{model}/converse", json=BODY) as response:
        return response.status, await response.json()


async def _stream_ttft(session: aiohttp.ClientSession, url: str, model: str) -> float | None:
    """Seconds from send to the first delta frame, or None for an error status."""
    sent = time.perf_counter()
    async with session.post(f"{url}/model/{model}/converse-stream", json=BODY) as response:
        if response.status != 200:
            return None
        first: float | None = None
        async for chunk in response.content.iter_any():
            if first is None and b"contentBlockDelta" in chunk:
                first = time.perf_counter() - sent
        return first


async def _stream_deltas(
    session: aiohttp.ClientSession, url: str, model: str
) -> tuple[str, list[float]]:
    """The request id, and ms from send to the arrival of each delta frame."""
    buffer = botocore.eventstream.EventStreamBuffer()
    arrivals: list[float] = []
    sent = time.perf_counter()
    async with session.post(f"{url}/model/{model}/converse-stream", json=BODY) as response:
        assert response.status == 200
        async for chunk in response.content.iter_any():
            arrived = 1000 * (time.perf_counter() - sent)
            buffer.add_data(chunk)
            arrivals.extend(
                arrived
                for message in buffer
                if message.headers[":event-type"] == "contentBlockDelta"
            )
        return response.headers["x-amzn-RequestId"], arrivals


def _stats(process: EmulatorProcess) -> dict[str, Any]:
    stats = process.stats()
    assert stats is not None
    return stats


async def test_quota_throttles_over_the_wire_and_the_log_says_so(tmp_path: Path) -> None:
    config = EmulatorConfig.model_validate(
        {
            "profiles": {
                "limited": {
                    "ttft_ms": 1,
                    "itl_ms": 0,
                    "output_tokens": 2,
                    "quota": {"rpm": 600, "burst_s": 1},
                }
            }
        }
    )
    log = tmp_path / "requests.jsonl"
    async with EmulatorProcess(config, log_path=log) as process:
        async with aiohttp.ClientSession() as session:
            started = time.monotonic()
            results = await asyncio.gather(
                *(_converse(session, process.url, "limited") for _ in range(40))
            )
            elapsed = time.monotonic() - started
        stats = await asyncio.to_thread(_stats, process)
    statuses = [status for status, _ in results]
    ok = statuses.count(200)
    # A bucket of 10 that refills 10 a second: about 10 + 10 x elapsed get through.
    assert 10 <= ok <= 10 + 10 * elapsed + 1
    assert set(statuses) == {200, 429}
    throttled = [body for status, body in results if status == 429]
    assert all(
        body == {"message": "Too many requests, please wait before trying again."}
        for body in throttled
    )
    quota = stats["models"]["limited"]["quota"]
    assert quota["throttled"]["rpm"] == len(throttled) and quota["admitted"] == ok
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == 40
    assert sum(line["outcome"] == "throttled_rpm" for line in lines) == len(throttled)
    served = [line for line in lines if line["outcome"] == "ok"]
    assert all(line["output_tokens"] == 2 and line["api"] == "converse" for line in served)
    assert all(
        {"ttft_ms", "gaps_ms", "queue_wait_ms", "input_tokens"} <= set(line) for line in served
    )


async def test_the_log_records_when_the_first_delta_was_actually_written(tmp_path: Path) -> None:
    # 2 slots and 4 requests at once: two wait ~60 ms for a slot, which first_write_ms includes.
    profile = {"ttft_ms": 40, "itl_ms": 10, "output_tokens": 3, "capacity": {"slots": 2}}
    config = EmulatorConfig.model_validate({"profiles": {"logged": profile}})
    log = tmp_path / "requests.jsonl"
    async with EmulatorProcess(config, log_path=log) as process, aiohttp.ClientSession() as session:
        streams = await asyncio.gather(
            *(_stream_deltas(session, process.url, "logged") for _ in range(4))
        )
        lines = await asyncio.to_thread(EmulatorLog(log, process.stats).settled)
    assert len(lines) == 4 and all(line["outcome"] == "ok" for line in lines)
    waited = sorted(line["queue_wait_ms"] for line in lines)
    assert waited[-1] > 40  # two of them queued behind the first two
    logged = {line["request_id"]: line for line in lines}
    after_write = []
    for request_id, arrivals in streams:
        line = logged[request_id]
        assert len(arrivals) == 3
        planned = planned_first_ms(line)
        # Never early, by its own record; and bounded by what the client saw, whatever the
        # machine's load: the client sent before the emulator's clock started, so it saw the
        # first delta no sooner than planned, and the second one after first_write_ms was
        # stamped (once the first write call had returned, before the second write).
        assert planned - 0.001 <= line["first_write_ms"] <= arrivals[1] + 0.001, (line, arrivals)
        assert arrivals[0] >= planned - 0.001, (line, arrivals)
        after_write.append(arrivals[0] - line["first_write_ms"])
    # The client saw about what the emulator wrote: its TTFT adds the network.
    assert statistics.median(after_write) <= CLIENT_MEDIAN_MS, after_write


async def test_capacity_knee_throughput_flattens_and_ttft_grows(tmp_path: Path) -> None:
    # 2 slots, service time 50 ms to first token + 5 gaps of 10 ms = 100 ms: at most 20/s.
    profile = {"ttft_ms": 50, "itl_ms": 10, "output_tokens": 6, "capacity": {"slots": 2}}
    config = EmulatorConfig.model_validate({"profiles": {"knee": profile}})
    log = tmp_path / "requests.jsonl"

    async def offer(session: aiohttp.ClientSession, url: str, rate: float, count: int) -> tuple:
        async def one(index: int) -> tuple[float | None, float]:
            await asyncio.sleep(index / rate)
            ttft = await _stream_ttft(session, url, "knee")
            return ttft, time.perf_counter()

        started = time.perf_counter()
        results = await asyncio.gather(*(one(i) for i in range(count)))
        ttfts = [ttft for ttft, _ in results if ttft is not None]
        finished = max(at for _, at in results) - started
        return ttfts, count / finished

    async with EmulatorProcess(config, log_path=log) as process, aiohttp.ClientSession() as session:
        emulator_log = EmulatorLog(log, process.stats)
        below, _ = await offer(session, process.url, rate=8, count=8)
        below_stats = await asyncio.to_thread(_stats, process)
        below_lines = await asyncio.to_thread(emulator_log.settled)
        above, throughput = await offer(session, process.url, rate=40, count=60)
        stats = await asyncio.to_thread(_stats, process)
        above_lines = (await asyncio.to_thread(emulator_log.settled))[len(below_lines) :]
    # No queue below the knee, by the emulator's own record; and the client saw the TTFT the
    # emulator wrote, not a queue's.
    assert below_stats["models"]["knee"]["capacity"]["max_queued"] == 0
    written = statistics.median(line["first_write_ms"] for line in below_lines)
    assert 1000 * statistics.median(below) <= written + CLIENT_MEDIAN_MS, (below, written)
    assert len(above) == 60  # no queue limit: everyone is served, late
    # N / S, not the 40/s offered: never more, as the emulator never writes early; and what
    # the emulator delivered (from its log: first arrival to the last delta's due instant),
    # which a busy machine can bring below N / S, is what the client measured.
    assert throughput <= 20 * 1.15
    start = min(line["received_unix"] for line in above_lines)
    end = max(line["received_unix"] + planned_last_ms(line) / 1000 for line in above_lines)
    delivered = 60 / (end - start)
    assert len(above_lines) == 60 and delivered <= 20 * 1.05, delivered
    assert throughput == pytest.approx(delivered, rel=0.1)
    assert max(above) > 1.0 and max(above) > 10 * statistics.median(below)
    capacity = stats["models"]["knee"]["capacity"]
    assert capacity["slots"] == 2 and capacity["max_queued"] >= 20
    assert capacity["queue_wait_ms"]["max"] > 1000 and capacity["busy"] == 0


async def test_queue_limit_answers_503_as_bedrock_does() -> None:
    profile = {
        "ttft_ms": 100,
        "itl_ms": 0,
        "output_tokens": 2,
        "capacity": {"slots": 1, "queue_limit": 1},
    }
    config = EmulatorConfig.model_validate({"profiles": {"small": profile}})
    async with EmulatorProcess(config) as process, aiohttp.ClientSession() as session:
        results = await asyncio.gather(
            *(_converse(session, process.url, "small") for _ in range(5))
        )
        stats = await asyncio.to_thread(_stats, process)
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 200, 503, 503, 503]
    assert {body["message"] for status, body in results if status == 503} == {
        "Bedrock is unable to process your request."
    }
    assert stats["models"]["small"]["capacity"]["rejected"] == 3


# --- settings from the command line ---------------------------------------------------------


def test_overrides_reach_every_model() -> None:
    config = apply_overrides(
        EmulatorConfig.builtin(),
        seed=7,
        rpm=30,
        slots=4,
        queue_limit=8,
        faults=["model_error=0.1", "slow_trickle=0.2"],
    )
    assert config.seed == 7
    for profile in config.profiles.values():
        assert config.quota_for(profile) is not None
        assert config.quota_for(profile).rpm == 30  # type: ignore[union-attr]
        assert config.capacity_for(profile) == Capacity(slots=4, queue_limit=8)
        assert profile.faults.model_error == 0.1 and profile.faults.slow_trickle == 0.2
    off = apply_overrides(EmulatorConfig.builtin(), quotas=False)
    assert all(off.quota_for(profile) is None for profile in off.profiles.values())
    assert parse_fault("stall=0.5") == ("stall", 0.5)
    for bad in ("stall", "nope=0.1", "stall=x", "stall=1.5"):
        with pytest.raises(ValueError):
            parse_fault(bad)


def test_builtin_profiles_cover_the_models_with_sources() -> None:
    builtin = EmulatorConfig.builtin()
    for model in (
        "amazon.nova-micro-v1:0",
        "amazon.nova-lite-v1:0",
        "amazon.nova-pro-v1:0",
        "amazon.nova-premier-v1:0",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        "anthropic.claude-sonnet-4-20250514-v1:0",
    ):
        profile = builtin.profiles[model]
        assert "estimate" in profile.description.lower()
        assert builtin.quota_for(profile) is not None
    for model in ("amazon.nova-pro-v1:0", "anthropic.claude-3-5-haiku-20241022-v1:0"):
        standard = builtin.profiles[model]
        optimized = standard.variant(latency_optimized=True)
        assert optimized.ttft_ms < standard.ttft_ms and optimized.itl_ms < standard.itl_ms
        assert optimized.output_tokens == standard.output_tokens  # inherited
    lite = builtin.profiles["amazon.nova-lite-v1:0"]
    assert lite.variant(latency_optimized=True) is lite  # no variant: standard latency
    assert lite.fidelity < builtin.profiles["anthropic.claude-sonnet-4-20250514-v1:0"].fidelity


def test_emulate_command_serves_with_flags_and_logs(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loadgen.cli",
            "emulate",
            "--port",
            "0",
            "--seed",
            "3",
            "--fault",
            "model_error=1",
            "--log",
            str(log),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip().rsplit(" ", 1)[-1]
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            f"{url}/model/us.amazon.nova-lite-v1:0/converse", data=json.dumps(BODY).encode()
        )
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request, timeout=10)
        assert caught.value.code == 424
        assert caught.value.headers["x-amzn-ErrorType"].startswith("ModelErrorException:")
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=10)
    (line,) = [json.loads(text) for text in log.read_text().splitlines()]
    assert line["fault"] == "model_error" and line["status"] == 424
    assert line["model"] == "us.amazon.nova-lite-v1:0" and line["api"] == "converse"


def test_emulate_command_refuses_bad_flags() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "loadgen.cli", "emulate", "--fault", "meltdown=0.1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert completed.returncode == 2
    assert "meltdown" in completed.stderr and "Traceback" not in completed.stderr


async def test_loadgen_run_counts_quota_refusals_as_throttled(
    aws_env: dict[str, str], make_scenario: Any, tmp_path: Path
) -> None:
    from rich.console import Console

    from loadgen.run import RunOptions, run_async

    # 600 RPM with one second of burst: 10 at once, then 10 a second; 20/s offered for 2 s.
    profile = {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 3, "quota": {"rpm": 600, "burst_s": 1}}
    config = EmulatorConfig.model_validate({"profiles": {"limited-model": profile}})
    log = tmp_path / "requests.jsonl"
    async with EmulatorProcess(config, log_path=log) as process:
        scenario = make_scenario(
            models=["limited-model"],
            target={"endpoint_url": process.url},
            load={"rate": 20, "arrival": "constant", "requests": 40},
        )
        options = RunOptions(
            out_dir=tmp_path / "out", quiet=True, console=Console(quiet=True), preflight=False
        )
        result = await run_async(scenario, options)
        stats = await asyncio.to_thread(_stats, process)
        lines = await asyncio.to_thread(EmulatorLog(log, process.stats).settled)
    requests = result.report["models"]["limited-model"]["requests"]
    throttled = stats["models"]["limited-model"]["quota"]["throttled"]["rpm"]
    assert requests["errors"]["throttled"] == throttled
    assert requests["ok"] == 40 - throttled
    # The bucket refills over the time the requests took to arrive at the emulator (its log),
    # 1.95 s on schedule; a client slowed by a busy machine spreads them over longer.
    assert len(lines) == 40
    arrived_s = max(line["received_unix"] for line in lines) - min(
        line["received_unix"] for line in lines
    )
    assert throttled == pytest.approx(40 - (10 + 10 * arrived_s), abs=2)
