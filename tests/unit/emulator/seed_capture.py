"""What a seed makes the emulator answer, captured so that two versions of the emulator can be
compared: every request's planned fields from the emulator's own log, and every answer's
content (the events' JSON without the "p" padding and the server's latency figures).

Run as a script against another checkout (`PYTHONPATH=<checkout> python seed_capture.py OUT`)
to write the expectation tests/unit/emulator/data/seed_285343a.json was made from; the test
(test_fidelity_seeds.py) captures the current code in process and compares."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp
import botocore.eventstream

from loadgen.emulator import Emulator, EmulatorConfig

SEED = 11
REQUESTS_PER_API = 30
# Faults whose answers are read whole by any client; jitter on everything a seed draws.
PROFILE: dict[str, Any] = {
    "ttft_ms": 1.0,
    "ttft_jitter_ms": 0.5,
    "itl_ms": 0.2,
    "itl_jitter_ms": 0.1,
    "output_tokens": 12,
    "output_tokens_jitter": 8,
    "tokens_per_delta": 2,
    "faults": {
        "throttle": 0.1,
        "server_error": 0.05,
        "model_error": 0.05,
        "stall": 0.1,
        "stall_ms": 1.0,
        "slow_trickle": 0.1,
        "trickle_factor": 2.0,
    },
}
CONFIG: dict[str, Any] = {
    "seed": SEED,
    "quotas": {"enabled": False},
    "default": PROFILE,
}
PLAN_FIELDS = ("fault", "ttft_ms", "gaps_ms", "input_tokens", "output_tokens", "stop_reason")
MESSAGES = [{"role": "user", "content": [{"text": "Write about the sea, please."}]}]
# The server's own measurements: they vary run to run, whatever the seed.
_TIMED = {"latencyMs", "metrics", "amazon-bedrock-invocationMetrics"}


def _requests() -> list[tuple[str, dict[str, Any]]]:
    """(path, body) in a fixed order: each API in turn, some with a maxTokens bound."""
    out: list[tuple[str, dict[str, Any]]] = []
    for index in range(REQUESTS_PER_API):
        config = {"maxTokens": 10} if index % 3 == 0 else {}
        converse = {"messages": MESSAGES, "inferenceConfig": config}
        out.append(("/model/amazon.nova-x-v1:0/converse-stream", converse))
        out.append(("/model/amazon.nova-x-v1:0/converse", converse))
        anthropic = {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 10 if index % 3 == 0 else 100,
            "messages": [{"role": "user", "content": "Write about the sea, please."}],
        }
        out.append(("/model/anthropic.claude-x-v1:0/invoke-with-response-stream", anthropic))
    return out


def _untimed(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _untimed(item)
            for key, item in value.items()
            if key not in _TIMED and key not in {"p", "id"}
        }
    if isinstance(value, list):
        return [_untimed(item) for item in value]
    return value


def _events(data: bytes) -> list[Any]:
    buffer = botocore.eventstream.EventStreamBuffer()
    buffer.add_data(data)
    events: list[Any] = []
    for message in buffer:
        payload = json.loads(message.payload) if message.payload else {}
        if "bytes" in payload:  # an InvokeModel chunk: the native event inside
            payload = {"bytes": json.loads(base64.b64decode(payload["bytes"]))}
        events.append([message.headers.get(":event-type"), _untimed(payload)])
    return events


async def capture() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        log_path = Path(folder) / "log.jsonl"
        config = EmulatorConfig.model_validate(CONFIG)
        answers: list[Any] = []
        async with (
            Emulator(config, log_path=log_path) as emulator,
            aiohttp.ClientSession() as session,
        ):
            for path, body in _requests():
                async with session.post(emulator.url + path, json=body) as response:
                    data = await response.read()
                if response.status != 200:
                    answers.append([response.status, json.loads(data)])
                elif "stream" in path:
                    answers.append([200, _events(data)])
                else:
                    answers.append([200, _untimed(json.loads(data))])
        lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    plans = [{name: line.get(name) for name in PLAN_FIELDS} for line in lines]
    return {"plans": plans, "answers": answers}


if __name__ == "__main__":
    result = asyncio.run(capture())
    Path(sys.argv[1]).write_text(json.dumps(result, indent=1) + "\n")
