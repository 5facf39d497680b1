"""AWS event-stream framing (application/vnd.amazon.eventstream), encoder only.

Written from the wire format, not from botocore: the harness decodes with botocore, and a
framing bug shared by both sides would cancel out in our own tests.

One message:

    total length   u32 BE  (the whole message, both CRCs included)
    headers length u32 BE
    prelude CRC32  u32 BE  (over the 8 bytes above)
    headers        name len u8, name, value type u8, value ...
    payload
    message CRC32  u32 BE  (over everything before it, prelude CRC included)
"""

from __future__ import annotations

import json
import random
import struct
import zlib
from collections.abc import Mapping
from typing import Any

_PRELUDE = struct.Struct(">II")
_CRC = struct.Struct(">I")
_PRELUDE_AND_CRCS = _PRELUDE.size + 2 * _CRC.size
_STRING = 7  # header value type: UTF-8 string with a u16 length
_MAX_HEADERS = 128 * 1024  # limits the decoders enforce; refuse rather than send garbage
_MAX_PAYLOAD = 16 * 1024 * 1024

JSON_CONTENT_TYPE = "application/json"

# Bedrock pads every stream event's JSON with "p": a run of this alphabet from its start, of
# a varying length, so that a frame's size does not give away how many tokens it carries.
# Captured streams show it on ConverseStream events (messageStart to metadata) and on
# InvokeModelWithResponseStream's chunk events, lengths from 10 to 56 seen; AWS documents
# neither the field nor its range, so the length is drawn uniformly from 1 to the whole
# alphabet (62) (docs/emulator.md, "Fidelity").
PADDING_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class Padding:
    """The padding's lengths, from a generator of their own: never the plan's, so that padding
    leaves every draw of a seed (timing, lengths, faults, text) as it was."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(f"padding:{seed}")

    def reseed(self, seed: int) -> None:
        self._rng.seed(f"padding:{seed}")

    def next(self) -> str:
        return PADDING_ALPHABET[: self._rng.randint(1, len(PADDING_ALPHABET))]


# One per process: the emulator seeds it from its config (server.BedrockEmulator), and every
# event frame, whichever encoder builds it, draws its padding here.
PADDING = Padding()


def encode_headers(headers: Mapping[str, str]) -> bytes:
    """String-typed headers, in the order given."""
    parts: list[bytes] = []
    for name, value in headers.items():
        raw_name = name.encode("utf-8")
        raw_value = value.encode("utf-8")
        if not 0 < len(raw_name) < 256 or len(raw_value) >= 65536:
            raise ValueError(f"event-stream header {name!r} is too long")
        parts.append(bytes([len(raw_name)]) + raw_name + bytes([_STRING]))
        parts.append(len(raw_value).to_bytes(2, "big") + raw_value)
    return b"".join(parts)


def encode_message(
    headers: Mapping[str, str], payload: bytes, *, corrupt_crc: bool = False
) -> bytes:
    """One complete message. `corrupt_crc` flips the message CRC (the bad-checksum fault)."""
    raw_headers = encode_headers(headers)
    if len(raw_headers) > _MAX_HEADERS or len(payload) > _MAX_PAYLOAD:
        raise ValueError("event-stream message too large")
    total = _PRELUDE_AND_CRCS + len(raw_headers) + len(payload)
    prelude = _PRELUDE.pack(total, len(raw_headers))
    head = prelude + _CRC.pack(zlib.crc32(prelude))
    body = head + raw_headers + payload
    crc = zlib.crc32(body)
    if corrupt_crc:
        crc ^= 0xFFFFFFFF
    return body + _CRC.pack(crc)


def _json(payload: Mapping[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def event_frame(
    event_type: str,
    payload: Mapping[str, Any],
    *,
    corrupt_crc: bool = False,
    padded: bool = True,
) -> bytes:
    """An event such as contentBlockDelta, its payload JSON as the service model shapes it,
    with Bedrock's "p" padding last (`padded=False`: the payload alone)."""
    headers = {
        ":event-type": event_type,
        ":content-type": JSON_CONTENT_TYPE,
        ":message-type": "event",
    }
    body = {**payload, "p": PADDING.next()} if padded else payload
    return encode_message(headers, _json(body), corrupt_crc=corrupt_crc)


def exception_frame(exception_type: str, message: str, **members: Any) -> bytes:
    """A modelled exception inside the stream, e.g. throttlingException (lowercase first
    letter: it names the member of ConverseStreamOutput, not the error shape); `members` are
    the shape's others, e.g. modelStreamErrorException's originalStatusCode."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": JSON_CONTENT_TYPE,
        ":message-type": "exception",
    }
    return encode_message(headers, _json({"message": message, **members}))
