"""Plain requests (none of the issue-16 options) sent one after another to an emulator, and the
deterministic part of what its request log says about each: the check that a request without
options is answered exactly as before the options existed (same draws from the seed, same
timing, same tokens). The expectation in tests/data/emulator_plain_285343a.json was recorded
from commit 285343a's emulator with this same traffic (`python -m tests.e2e.plain_traffic URL
LOG OUT` against that emulator, started with PLAIN_CONFIG and --log LOG)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp

EXPECTATION = Path(__file__).parents[1] / "data" / "emulator_plain_285343a.json"
# Jitter everywhere and faults that draw: every draw of the seeded generator shows in the log.
_PROFILE: dict[str, Any] = {
    "ttft_ms": 40,
    "ttft_jitter_ms": 10,
    "itl_ms": 2,
    "itl_jitter_ms": 1,
    "output_tokens": 12,
    "output_tokens_jitter": 6,
    "tokens_per_delta": 2,
    "faults": {"stall": 0.2, "stall_ms": 15, "throttle": 0.1, "slow_trickle": 0.1},
    "quota": {"tpm": 1000000},
}
PLAIN_CONFIG: dict[str, Any] = {
    "seed": 11,
    "profiles": {"anthropic.plain-v1:0": _PROFILE, "amazon.nova-plain-v1:0": _PROFILE},
}
# Fields of a log line that depend on the wall clock or on uuid4, not on the seed.
UNSEEDED = frozenset({"request_id", "received_unix", "queue_wait_ms", "first_write_ms"})

_SYSTEM = "You are terse."
_USER = "Write a short note about the quarterly report and its figures."


def _converse() -> dict[str, Any]:
    return {
        "system": [{"text": _SYSTEM}],
        "messages": [{"role": "user", "content": [{"text": _USER}]}],
        "inferenceConfig": {"maxTokens": 15},
    }


def _anthropic() -> dict[str, Any]:
    return {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 15,
        "system": _SYSTEM,
        "messages": [{"role": "user", "content": [{"type": "text", "text": _USER}]}],
    }


def _nova() -> dict[str, Any]:
    return {"schemaVersion": "messages-v1", **_converse()}


def _openai(stream: bool) -> dict[str, Any]:
    return {
        "model": "us.anthropic.plain-v1:0",
        "messages": [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": _USER}],
        "max_tokens": 15,
        "stream": stream,
        "stream_options": {"include_usage": True},
    }


def plain_requests() -> list[tuple[str, dict[str, Any]]]:
    """(path, body) of each request, in the order sent."""
    requests: list[tuple[str, dict[str, Any]]] = []
    for _ in range(4):
        requests += [
            ("/model/us.anthropic.plain-v1:0/converse-stream", _converse()),
            ("/model/us.amazon.nova-plain-v1:0/converse", _converse()),
            ("/model/us.anthropic.plain-v1:0/invoke-with-response-stream", _anthropic()),
            ("/model/amazon.nova-plain-v1:0/invoke", _nova()),
            ("/model/us.amazon.nova-plain-v1:0/invoke-with-response-stream", _nova()),
            ("/v1/chat/completions", _openai(stream=True)),
            ("/v1/chat/completions", _openai(stream=False)),
        ]
    return requests


async def send_plain(url: str) -> None:
    """Each request in turn, its whole response read before the next is sent."""
    async with aiohttp.ClientSession() as session:
        for path, body in plain_requests():
            async with session.post(url + path, json=body) as response:
                await response.read()


def seeded_fields(log_path: Path) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in log_path.read_text(encoding="utf-8").splitlines()]
    return [{k: v for k, v in line.items() if k not in UNSEEDED} for line in lines]


if __name__ == "__main__":  # record the expectation against a running emulator
    url, log, out = sys.argv[1:4]
    asyncio.run(send_plain(url))
    Path(out).write_text(json.dumps(seeded_fields(Path(log)), indent=1) + "\n", encoding="utf-8")
