"""The emulator's wire protocol, checked with botocore (which the emulator never imports):
frames decoded by botocore's EventStreamBuffer, profiles and config, and the emulator's answers
to a raw client. Whole responses read by a real boto3 client: tests/e2e/test_emulator_wire.py."""

from __future__ import annotations

import ast
import json
import random
import zlib
from pathlib import Path

import aiohttp
import botocore.eventstream
import botocore.exceptions
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from loadgen.emulator import Emulator, EmulatorConfig, Faults, Profile
from loadgen.emulator.eventstream import encode_message, event_frame, exception_frame
from loadgen.emulator.profiles import WORDS
from tests.helpers import REPO


def _decode(data: bytes) -> list[botocore.eventstream.EventStreamMessage]:
    buffer = botocore.eventstream.EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


# --- frames -------------------------------------------------------------------------------


def test_event_frame_decodes_with_botocore() -> None:
    payload = {"contentBlockIndex": 0, "delta": {"text": "héllo "}}
    data = event_frame("contentBlockDelta", payload, padded=False)
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
    good = event_frame("messageStart", {"role": "assistant"}, padded=False)
    bad = event_frame("messageStart", {"role": "assistant"}, corrupt_crc=True, padded=False)
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
    (message,) = _decode(event_frame(event_type, {"delta": {"text": text}}, padded=False))
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


def test_emulator_shares_no_code_with_the_client_side() -> None:
    """No botocore, and nothing of the client side's protocol code: a protocol bug shared by
    both sides would cancel out in these tests. Of loadgen's core the emulator takes only what
    carries no protocol: the error tree, the parent-death signal, and the pacer (and its
    lateness statistics) that both sides now wake by."""
    root = REPO
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
        "loadgen.emulator.apis",
        "loadgen.core.errors",
        "loadgen.core.parent_death",
        "loadgen.core.pacing",
        "loadgen.core.lateness",
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
                sent = {"messages": [{"role": "user", "content": [{"text": "hi"}]}]}
                async with session.post(url, json=sent) as response:
                    body = await response.read()
                    deltas = body.count(b"contentBlockDelta") if response.status == 200 else 0
                    results.append((response.status, deltas))
        return results

    first = await outcomes()
    assert first == await outcomes()
    assert {status for status, _ in first} == {200, 429}
    assert len({deltas for _, deltas in first}) > 3
