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


def event_frame(event_type: str, payload: Mapping[str, Any], *, corrupt_crc: bool = False) -> bytes:
    """An event such as contentBlockDelta, its payload JSON as the service model shapes it."""
    headers = {
        ":event-type": event_type,
        ":content-type": JSON_CONTENT_TYPE,
        ":message-type": "event",
    }
    return encode_message(headers, _json(payload), corrupt_crc=corrupt_crc)


def exception_frame(exception_type: str, message: str) -> bytes:
    """A modelled exception inside the stream, e.g. throttlingException (lowercase first
    letter: it names the member of ConverseStreamOutput, not the error shape)."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": JSON_CONTENT_TYPE,
        ":message-type": "exception",
    }
    return encode_message(headers, _json({"message": message}))
