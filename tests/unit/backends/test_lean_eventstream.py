"""The lean event-stream decoder against botocore's own EventStreamBuffer, property-tested.

Frames are built here with every header type the format has (the emulator sends strings
only), split into arbitrary chunks, and fed to both decoders: whatever botocore reads, the
lean decoder reads identically; whatever botocore refuses, the lean decoder refuses too.
"""

from __future__ import annotations

import itertools
import json
import struct
import zlib
from typing import Any

import botocore.eventstream
import botocore.exceptions
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.backends.bedrock_client import classify
from loadgen.backends.lean_eventstream import FrameDecoder, MalformedFrame, frame_error
from loadgen.core.sample import ErrorClass
from loadgen.emulator.eventstream import event_frame, exception_frame

# (type byte, strategy of values, how the value is written)
_TYPED: list[tuple[int, st.SearchStrategy[Any], Any]] = [
    (0, st.just(True), lambda v: b""),
    (1, st.just(False), lambda v: b""),
    (2, st.integers(-128, 127), lambda v: struct.pack("!b", v)),
    (3, st.integers(-(2**15), 2**15 - 1), lambda v: struct.pack("!h", v)),
    (4, st.integers(-(2**31), 2**31 - 1), lambda v: struct.pack("!i", v)),
    (5, st.integers(-(2**63), 2**63 - 1), lambda v: struct.pack("!q", v)),
    (6, st.binary(max_size=40), lambda v: struct.pack("!H", len(v)) + v),
    (7, st.text(max_size=40), lambda v: struct.pack("!H", len(v.encode())) + v.encode()),
    (8, st.integers(0, 2**62), lambda v: struct.pack("!q", v)),
    (9, st.binary(min_size=16, max_size=16), lambda v: v),
]


@st.composite
def header_sets(draw: st.DrawFn) -> bytes:
    names = draw(st.lists(st.text(min_size=1, max_size=12), max_size=5, unique=True))
    raw = b""
    for name in names:
        kind, values, write = draw(st.sampled_from(_TYPED))
        encoded = name.encode()
        if len(encoded) > 255:
            continue
        raw += bytes([len(encoded)]) + encoded + bytes([kind]) + write(draw(values))
    return raw


def frame(raw_headers: bytes, payload: bytes) -> bytes:
    total = 16 + len(raw_headers) + len(payload)
    prelude = struct.pack("!II", total, len(raw_headers))
    head = prelude + struct.pack("!I", zlib.crc32(prelude))
    body = head + raw_headers + payload
    return body + struct.pack("!I", zlib.crc32(body))


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts} | {0, len(data)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def botocore_read(chunks: list[bytes]) -> tuple[list[tuple[dict[str, Any], bytes]], bool]:
    buffer = botocore.eventstream.EventStreamBuffer()
    read: list[tuple[dict[str, Any], bytes]] = []
    try:
        for chunk in chunks:
            buffer.add_data(chunk)
            read.extend((m.headers, m.payload) for m in buffer)
    except Exception:
        return read, True
    return read, False


def lean_read(chunks: list[bytes]) -> tuple[list[tuple[dict[str, Any], bytes]], bool]:
    decoder = FrameDecoder()
    read: list[tuple[dict[str, Any], bytes]] = []
    try:
        for chunk in chunks:
            read.extend(decoder.feed(chunk))
    except botocore.eventstream.ParserError:
        return read, True
    return read, False


frames = st.lists(st.tuples(header_sets(), st.binary(max_size=200)), min_size=1, max_size=6)
cut_points = st.lists(st.integers(0, 10_000), max_size=8)


@settings(max_examples=150, deadline=None)
@given(frames, cut_points)
def test_valid_frames_read_as_botocore_reads_them(
    parts: list[tuple[bytes, bytes]], cuts: list[int]
) -> None:
    data = b"".join(frame(h, p) for h, p in parts)
    chunks = split(data, cuts)
    expected, failed = botocore_read(chunks)
    assert not failed
    assert lean_read(chunks) == (expected, False)
    assert len(expected) == len(parts)


@settings(max_examples=150, deadline=None)
@given(frames, st.integers(0, 10_000), st.integers(1, 255), cut_points)
def test_damaged_frames_are_refused_as_botocore_refuses_them(
    parts: list[tuple[bytes, bytes]], where: int, flip: int, cuts: list[int]
) -> None:
    data = bytearray(b"".join(frame(h, p) for h, p in parts))
    data[where % len(data)] ^= flip
    chunks = split(bytes(data), cuts)
    expected, botocore_failed = botocore_read(chunks)
    read, lean_failed = lean_read(chunks)
    assert lean_failed == botocore_failed
    assert read == expected


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300), cut_points)
def test_noise_never_passes_for_frames(noise: bytes, cuts: list[int]) -> None:
    chunks = split(noise, cuts)
    expected, botocore_failed = botocore_read(chunks)
    read, lean_failed = lean_read(chunks)
    assert read == expected
    if botocore_failed:
        assert lean_failed


def test_a_cut_frame_is_held_until_the_rest_arrives() -> None:
    data = event_frame("messageStop", {"stopReason": "end_turn"}, padded=False)
    decoder = FrameDecoder()
    assert list(decoder.feed(data[:-5])) == []
    assert decoder.pending == len(data) - 5
    [(headers, payload)] = list(decoder.feed(data[-5:]))
    assert headers[":event-type"] == "messageStop"
    assert json.loads(payload) == {"stopReason": "end_turn"}
    assert decoder.pending == 0


def test_a_bad_message_crc_is_a_checksum_mismatch_in_the_protocol_class() -> None:
    data = bytearray(event_frame("messageStop", {"stopReason": "end_turn"}))
    data[-1] ^= 1
    with pytest.raises(botocore.eventstream.ChecksumMismatch) as caught:
        list(FrameDecoder().feed(bytes(data)))
    assert classify(caught.value)[:2] == (ErrorClass.PROTOCOL, "ChecksumMismatch")


def test_a_header_past_its_section_is_malformed() -> None:
    # A string header claiming 50 bytes in a headers section of 9.
    raw = bytes([1]) + b"a" + bytes([7]) + struct.pack("!H", 50) + b"abcd"
    with pytest.raises(MalformedFrame):
        list(FrameDecoder().feed(frame(raw, b"{}")))


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("throttlingException", ErrorClass.THROTTLED),
        ("validationException", ErrorClass.CLIENT),
        ("modelStreamErrorException", ErrorClass.SERVER),
        ("madeUpException", ErrorClass.SERVER),
    ],
)
def test_exception_frames_raise_what_the_sdk_raises(code: str, expected: ErrorClass) -> None:
    [(headers, payload)] = list(FrameDecoder().feed(exception_frame(code, "slow down")))
    error = frame_error(headers, payload, "ConverseStream")
    assert isinstance(error, botocore.exceptions.EventStreamError)
    assert error.response["Error"] == {"Code": code, "Message": "slow down"}
    assert classify(error) == (expected, code, None)


def test_event_frames_are_not_errors() -> None:
    [(headers, payload)] = list(FrameDecoder().feed(event_frame("messageStart", {"role": "x"})))
    assert frame_error(headers, payload, "ConverseStream") is None
