"""The emulator's wire protocol, checked with botocore (which the emulator never imports):
whole responses read by a real boto3 bedrock-runtime client over loopback, faults included.
The frames themselves: tests/unit/emulator/test_wire.py."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import boto3
import botocore.eventstream
import botocore.exceptions
import pytest
import urllib3
from botocore.config import Config

from loadgen.emulator import Emulator, EmulatorConfig, Profile
from loadgen.emulator.profiles import WORDS

FAST = {"ttft_ms": 20, "itl_ms": 2, "output_tokens": 6, "tokens_per_delta": 1}
SYSTEM = "You are terse."
USER = "Summarise this email, please."


# --- the whole protocol, through boto3 ---------------------------------------------------

CONFIG = EmulatorConfig.model_validate(
    {
        "seed": 5,
        "default": {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 2},
        "profiles": {
            "amazon.fast-v1:0": {**FAST, "tokens_per_delta": 2, "output_tokens": 7},
            "stall": {**FAST, "faults": {"stall": 1.0, "stall_ms": 150}},
            **{
                kind: {**FAST, "output_tokens": 10, "faults": {kind: 1.0}}
                for kind in (
                    "throttle",
                    "throttle_midstream",
                    "server_error",
                    "unavailable",
                    "model_stream_error",
                    "cut_stream",
                    "drop_connection",
                    "bad_checksum",
                )
            },
        },
    }
)


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(CONFIG) as running:
        yield running


def _client(url: str) -> Any:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def _converse(url: str, model: str, max_tokens: int = 100) -> list[dict[str, Any]]:
    """Blocking boto3 call (run in a thread: the emulator runs in the test's loop)."""
    client = _client(url)
    try:
        response = client.converse_stream(
            modelId=model,
            system=[{"text": SYSTEM}],
            messages=[{"role": "user", "content": [{"text": USER}]}],
            inferenceConfig={"maxTokens": max_tokens},
        )
        stream = response["stream"]
        try:
            return list(stream)
        finally:
            stream.close()
    finally:
        client.close()


async def converse(url: str, model: str, max_tokens: int = 100) -> list[dict[str, Any]]:
    return await asyncio.to_thread(_converse, url, model, max_tokens)


def _names(events: list[dict[str, Any]]) -> list[str]:
    return [next(iter(event)) for event in events]


async def test_stream_is_what_botocore_expects(emulator: Emulator) -> None:
    events = await converse(emulator.url, "amazon.fast-v1:0")
    names = _names(events)
    assert names == ["messageStart"] + ["contentBlockDelta"] * 4 + [
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert events[0]["messageStart"] == {"role": "assistant"}
    texts = [e["contentBlockDelta"]["delta"]["text"] for e in events[1:5]]
    assert all(e["contentBlockDelta"]["contentBlockIndex"] == 0 for e in events[1:5])
    assert texts == Profile(tokens_per_delta=2).deltas(7)
    assert "".join(texts) == "".join(f"{WORDS[i]} " for i in range(7))
    assert events[5]["contentBlockStop"] == {"contentBlockIndex": 0}
    assert events[6]["messageStop"] == {"stopReason": "end_turn"}
    metadata = events[7]["metadata"]
    input_tokens = math.ceil(len(SYSTEM + USER) / 4)
    assert metadata["usage"] == {
        "inputTokens": input_tokens,
        "outputTokens": 7,
        "totalTokens": input_tokens + 7,
    }
    assert 20 + 3 * 2 <= metadata["metrics"]["latencyMs"] < 200


async def test_max_tokens_bounds_the_output(emulator: Emulator) -> None:
    events = await converse(emulator.url, "amazon.fast-v1:0", max_tokens=3)
    assert _names(events).count("contentBlockDelta") == 2  # ceil(3 / 2)
    assert events[-2]["messageStop"]["stopReason"] == "max_tokens"
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 3


async def test_cross_region_ids_reach_their_profile(emulator: Emulator) -> None:
    # botocore sends the id percent-encoded: /model/us.amazon.fast-v1%3A0/converse-stream
    events = await converse(emulator.url, "us.amazon.fast-v1:0")
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 7
    events = await converse(emulator.url, "eu.amazon.other-v1:0")  # unknown: the default
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 2


@pytest.mark.parametrize(
    ("model", "status", "code"),
    [
        ("throttle", 429, "ThrottlingException"),
        ("server_error", 500, "InternalServerException"),
        ("unavailable", 503, "ServiceUnavailableException"),
    ],
)
async def test_http_errors_before_the_stream(
    emulator: Emulator, model: str, status: int, code: str
) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        await converse(emulator.url, model)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert emulator.stats()["faults"][model] == 1


@pytest.mark.parametrize(
    ("model", "code"),
    [
        ("throttle_midstream", "throttlingException"),
        ("model_stream_error", "modelStreamErrorException"),
    ],
)
async def test_exception_frames_mid_stream(emulator: Emulator, model: str, code: str) -> None:
    with pytest.raises(botocore.exceptions.EventStreamError) as caught:
        await converse(emulator.url, model)
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["Error"]["Message"]


async def test_cut_stream_ends_quietly_without_stop_or_metadata(emulator: Emulator) -> None:
    events = await converse(emulator.url, "cut_stream")  # botocore raises nothing
    assert _names(events) == ["messageStart"] + ["contentBlockDelta"] * 5


async def test_dropped_connection_raises(emulator: Emulator) -> None:
    # boto3 reads through urllib3, which reports the cut body as a ProtocolError.
    with pytest.raises((urllib3.exceptions.ProtocolError, botocore.exceptions.BotoCoreError)):
        await converse(emulator.url, "drop_connection")


async def test_bad_checksum_raises(emulator: Emulator) -> None:
    with pytest.raises(botocore.eventstream.ChecksumMismatch):
        await converse(emulator.url, "bad_checksum")


async def test_stall_delays_the_first_token(emulator: Emulator) -> None:
    events = await converse(emulator.url, "stall")
    assert events[-1]["metadata"]["metrics"]["latencyMs"] >= 150 + 20 + 5 * 2


async def test_bad_json_is_a_validation_error_and_stats_add_up(emulator: Emulator) -> None:
    async with aiohttp.ClientSession() as session:
        url = f"{emulator.url}/model/amazon.fast-v1%3A0/converse-stream"
        async with session.post(url, data=b"{not json") as response:
            assert response.status == 400
            assert response.headers["x-amzn-ErrorType"].startswith("ValidationException:")
            assert "message" in await response.json()
        with pytest.raises(botocore.exceptions.ClientError):
            await converse(emulator.url, "throttle")
        async with session.get(f"{emulator.url}/_emulator/stats") as response:
            stats = await response.json()
    assert stats["requests"] == 2 and stats["completed"] == 0 and stats["in_flight"] == 0
    assert stats["faults"]["throttle"] == 1 and sum(stats["faults"].values()) == 1
    assert set(stats["lateness"]) >= {"count", "p50_us", "p99_us", "max_us"}
