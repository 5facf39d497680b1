"""The emulator's wire protocol, checked with botocore (which the emulator never imports):
frames decoded by botocore's EventStreamBuffer, and whole responses read by a real boto3
bedrock-runtime client over loopback, faults included."""

from __future__ import annotations

import ast
import asyncio
import json
import math
import random
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import botocore.eventstream
import botocore.exceptions
import pytest
import urllib3
from botocore.config import Config
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from loadgen.emulator import Emulator, EmulatorConfig, Faults, Profile
from loadgen.emulator.eventstream import encode_message, event_frame, exception_frame
from loadgen.emulator.profiles import WORDS

FAST = {"ttft_ms": 20, "itl_ms": 2, "output_tokens": 6, "tokens_per_delta": 1}
SYSTEM = "You are terse."
USER = "Summarise this email, please."


def _decode(data: bytes) -> list[botocore.eventstream.EventStreamMessage]:
    buffer = botocore.eventstream.EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


# --- frames -------------------------------------------------------------------------------


def test_event_frame_decodes_with_botocore() -> None:
    payload = {"contentBlockIndex": 0, "delta": {"text": "héllo "}}
    data = event_frame("contentBlockDelta", payload)
    (message,) = _decode(data)
    assert message.headers == {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert json.loads(message.payload) == payload
    assert message.prelude.total_length == len(data)
    assert message.crc == zlib.crc32(data[:-4])


def test_exception_frame_decodes_with_botocore() -> None:
    (message,) = _decode(exception_frame("throttlingException", "slow down"))
    assert message.headers[":message-type"] == "exception"
    assert message.headers[":exception-type"] == "throttlingException"
    assert json.loads(message.payload) == {"message": "slow down"}
    assert message.to_response_dict()["status_code"] == 400


def test_corrupt_crc_is_caught_by_botocore() -> None:
    good = event_frame("messageStart", {"role": "assistant"})
    bad = event_frame("messageStart", {"role": "assistant"}, corrupt_crc=True)
    assert good[:-4] == bad[:-4] and good[-4:] != bad[-4:]
    with pytest.raises(botocore.eventstream.ChecksumMismatch):
        _decode(bad)


def test_several_frames_split_anywhere_decode_in_order() -> None:
    frames = [event_frame("contentBlockDelta", {"delta": {"text": str(i)}}) for i in range(5)]
    data = b"".join(frames)
    buffer = botocore.eventstream.EventStreamBuffer()
    decoded = []
    for start in range(0, len(data), 7):  # arbitrary chunking, as TCP may deliver it
        buffer.add_data(data[start : start + 7])
        decoded.extend(buffer)
    assert [json.loads(m.payload)["delta"]["text"] for m in decoded] == ["0", "1", "2", "3", "4"]


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(max_size=300),
    event_type=st.text(min_size=1, max_size=40).filter(lambda s: len(s.encode()) < 256),
    raw=st.binary(max_size=200),
)
def test_random_frames_round_trip(text: str, event_type: str, raw: bytes) -> None:
    (message,) = _decode(event_frame(event_type, {"delta": {"text": text}}))
    assert message.headers[":event-type"] == event_type
    assert json.loads(message.payload) == {"delta": {"text": text}}
    (message,) = _decode(encode_message({":message-type": "event"}, raw))
    assert message.payload == raw


def test_oversized_header_is_refused() -> None:
    with pytest.raises(ValueError):
        encode_message({"x" * 300: "v"}, b"")


# --- profiles -----------------------------------------------------------------------------


def test_profile_lookup_exact_then_cross_region_then_default() -> None:
    config = EmulatorConfig.model_validate(
        {
            "default": {"ttft_ms": 1},
            "profiles": {"amazon.nova-lite-v1:0": {"ttft_ms": 2}, "us.special:0": {"ttft_ms": 3}},
        }
    )
    assert config.profile_for("amazon.nova-lite-v1:0").ttft_ms == 2
    for prefix in ("us.", "eu.", "apac.", "us-gov.", "global."):
        assert config.profile_for(prefix + "amazon.nova-lite-v1:0").ttft_ms == 2
    assert config.profile_for("us.special:0").ttft_ms == 3
    assert config.profile_for("xx.amazon.nova-lite-v1:0").ttft_ms == 1
    assert config.profile_for("unknown").ttft_ms == 1


def test_config_is_strict_and_faults_add_up_to_at_most_one() -> None:
    with pytest.raises(ValidationError):
        EmulatorConfig.model_validate({"profiles": {"m": {"ttft": 5}}})
    with pytest.raises(ValidationError):
        Faults(throttle=1.5)
    with pytest.raises(ValidationError, match="add up"):
        Faults(throttle=0.6, cut_stream=0.6)


def test_faults_are_drawn_at_their_probabilities() -> None:
    faults = Faults(throttle=0.2, bad_checksum=0.1)
    rng = random.Random(1)
    drawn = [faults.draw(rng) for _ in range(20_000)]
    assert drawn.count("throttle") / len(drawn) == pytest.approx(0.2, abs=0.015)
    assert drawn.count("bad_checksum") / len(drawn) == pytest.approx(0.1, abs=0.015)
    assert set(drawn) == {"throttle", "bad_checksum", None}


def test_lengths_and_text() -> None:
    profile = Profile(output_tokens=50, output_tokens_jitter=10, tokens_per_delta=3)
    rng = random.Random(0)
    counts = [profile.draw_output_tokens(rng, None)[0] for _ in range(500)]
    assert min(counts) >= 40 and max(counts) <= 60 and len(set(counts)) > 15
    assert profile.draw_output_tokens(rng, 5) == (5, "max_tokens")
    texts = profile.deltas(7)
    assert len(texts) == 3 and [t.count(" ") for t in texts] == [3, 3, 1]
    assert "".join(texts).split() == [WORDS[i % len(WORDS)] for i in range(7)]


def test_config_files_load(tmp_path: Path) -> None:
    builtin = EmulatorConfig.builtin()
    for model in (
        "amazon.nova-micro-v1:0",
        "amazon.nova-lite-v1:0",
        "amazon.nova-pro-v1:0",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
    ):
        assert "estimate" in builtin.profiles[model].description.lower()
    path = tmp_path / "config.json"
    path.write_text(json.dumps(builtin.model_dump()))
    assert EmulatorConfig.from_file(path) == builtin


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


def test_emulator_shares_no_code_with_the_client_side() -> None:
    """No botocore, and nothing from the rest of loadgen: a protocol bug shared by both sides
    would cancel out in these tests."""
    root = Path(__file__).resolve().parents[1]
    package = root / "loadgen" / "emulator"
    sources = list(package.rglob("*.py"))
    assert any(source.parent.name == "apis" for source in sources)  # subpackages walked too
    imported: set[str] = set()
    for source in sources:
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
    roots = {name.split(".")[0] for name in imported}
    assert not roots & {"botocore", "boto3", "aiobotocore", "aioboto3"}
    own = {".".join(source.relative_to(root).with_suffix("").parts) for source in sources}
    assert {name for name in imported if name.startswith("loadgen.")} <= own | {
        "loadgen.emulator.apis"
    }


async def test_same_seed_same_responses() -> None:
    profile = {
        "ttft_ms": 1,
        "ttft_jitter_ms": 1,
        "itl_ms": 0,
        "output_tokens": 20,
        "output_tokens_jitter": 15,
        "faults": {"throttle": 0.3},
    }
    config = EmulatorConfig.model_validate({"seed": 9, "default": profile})

    async def outcomes() -> list[tuple[int, int]]:
        results = []
        async with Emulator(config) as running, aiohttp.ClientSession() as session:
            for _ in range(12):
                url = f"{running.url}/model/m/converse-stream"
                async with session.post(url, data=b"{}") as response:
                    body = await response.read()
                    deltas = body.count(b"contentBlockDelta") if response.status == 200 else 0
                    results.append((response.status, deltas))
        return results

    first = await outcomes()
    assert first == await outcomes()
    assert {status for status, _ in first} == {200, 429}
    assert len({deltas for _, deltas in first}) > 3
