"""A lean AWS event-stream reader for Bedrock's streaming APIs (`target.stream_decoder: lean`).

Why: profiled against the emulator, most of the client's CPU on a streamed answer goes to
botocore decoding each frame (a header parser object, slices per field) and then walking the
service model to "parse" a JSON payload that is already in the shape we read (see
docs/scaling.md for the figures). Only the response body is read here, straight from
aiohttp, whichever path sent the request: botocore's whole pipeline (`request_path: sdk`) or
loadgen's own request signed by botocore (`signed`, backends/signed_request.py).

The frame format (prelude, headers, payload, two CRC32s) is checked as strictly as botocore
does, and failures raise botocore's own exception types, so `classify` puts every fault in
the same class on both paths:
- a bad CRC raises botocore.eventstream.ChecksumMismatch; over-long sections raise
  InvalidHeadersLength / InvalidPayloadLength; a repeated header DuplicateHeader;
- a header that runs past its section or has an unknown type raises MalformedFrame (a
  botocore ParserError; botocore itself silently truncates such a header or fails with a
  KeyError/struct.error);
- an exception or error frame raises botocore.exceptions.EventStreamError with the frame's
  `:exception-type` (or `:error-code`) as the code. botocore leaves the code empty for an
  exception type its service model does not know; we keep the name the server sent.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import botocore.eventstream
import botocore.exceptions

from loadgen.core import fast_json

HeaderValue = bool | int | str | bytes
Headers = dict[str, HeaderValue]
Frame = tuple[Headers, bytes]

_PRELUDE = struct.Struct("!III")
_U32 = struct.Struct("!I")
_PRELUDE_LENGTH = 12
_MIN_FRAME = _PRELUDE_LENGTH + 4
# botocore's limits (botocore/eventstream.py): a frame past them is refused, not buffered.
_MAX_HEADERS_LENGTH = 128 * 1024
_MAX_PAYLOAD_LENGTH = 24 * 1024 * 1024
# Header value type -> struct of a fixed-size value (0/1 are booleans, 6/7 length-prefixed).
_FIXED = {
    2: struct.Struct("!b"),
    3: struct.Struct("!h"),
    4: struct.Struct("!i"),
    5: struct.Struct("!q"),
    8: struct.Struct("!q"),  # timestamp: milliseconds, as botocore returns it
}
_U16 = struct.Struct("!H")


class MalformedFrame(botocore.eventstream.ParserError):  # type: ignore[misc]
    """A frame whose CRCs pass but whose headers cannot be read."""


class FrameDecoder:
    """Bytes in, whole frames out; keeps a partial frame until the rest arrives."""

    def __init__(self) -> None:
        # An incomplete frame's chunks, joined only once they can complete it: a large frame
        # read in many small chunks is copied once, not once per chunk.
        self._parts: list[bytes] = []
        self._held = 0
        self._needed = 0  # bytes the held ones must reach: the frame's length, or a prelude's

    def feed(self, chunk: bytes) -> Iterator[Frame]:
        """The frames `chunk` completes, each as soon as it is read: the frames before a
        damaged one still come out (as from botocore), then the error is raised."""
        if self._parts:
            self._parts.append(chunk)
            self._held += len(chunk)
            if self._held < self._needed:
                return
            data = b"".join(self._parts)
        else:
            data = chunk
        self._parts = []
        self._held = 0
        pos = 0
        end = len(data)
        needed = _PRELUDE_LENGTH
        while end - pos >= _PRELUDE_LENGTH:
            total, headers_length, prelude_crc = _PRELUDE.unpack_from(data, pos)
            computed = zlib.crc32(data[pos : pos + 8])
            if computed != prelude_crc:
                raise botocore.eventstream.ChecksumMismatch(prelude_crc, computed)
            if headers_length > _MAX_HEADERS_LENGTH:
                raise botocore.eventstream.InvalidHeadersLength(headers_length)
            payload_length = total - headers_length - _MIN_FRAME
            if payload_length > _MAX_PAYLOAD_LENGTH or payload_length < 0:
                raise botocore.eventstream.InvalidPayloadLength(payload_length)
            if end - pos < total:
                needed = total
                break
            payload_end = pos + total - 4
            (message_crc,) = _U32.unpack_from(data, payload_end)
            computed = zlib.crc32(data[pos + 8 : payload_end], prelude_crc)
            if computed != message_crc:
                raise botocore.eventstream.ChecksumMismatch(message_crc, computed)
            headers_start = pos + _PRELUDE_LENGTH
            headers_end = headers_start + headers_length
            headers = _cached_headers(data[headers_start:headers_end])
            pos += total
            yield headers, data[headers_end:payload_end]
        if pos < end:
            self._parts = [data[pos:] if pos else data]
            self._held = end - pos
            self._needed = needed

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back (non-zero at the end: a cut stream)."""
        return self._held


# Parsed header sections by their bytes. A stream repeats a handful of sections (every
# contentBlockDelta frame carries the same three headers), so most frames are a dict lookup.
# Only sections that parsed without error are kept; the dicts are shared: read, never modify.
_HEADERS_SEEN: dict[bytes, Headers] = {}
_HEADERS_SEEN_MAX = 256  # sections kept; past it the cache starts afresh
_HEADERS_CACHED_LENGTH = 512  # longer sections are parsed every time, never kept


def _cached_headers(raw: bytes) -> Headers:
    headers = _HEADERS_SEEN.get(raw)
    if headers is None:
        headers = _headers(raw, 0, len(raw))
        if len(raw) <= _HEADERS_CACHED_LENGTH:
            if len(_HEADERS_SEEN) >= _HEADERS_SEEN_MAX:
                _HEADERS_SEEN.clear()
            _HEADERS_SEEN[raw] = headers
    return headers


def _headers(data: bytes, pos: int, end: int) -> Headers:
    headers: Headers = {}
    try:
        while pos < end:
            name_length = data[pos]
            name = data[pos + 1 : pos + 1 + name_length].decode()
            pos += 1 + name_length
            kind = data[pos]
            pos += 1
            value: HeaderValue
            if kind == 7 or kind == 6:
                (length,) = _U16.unpack_from(data, pos)
                raw = data[pos + 2 : pos + 2 + length]
                value = raw.decode() if kind == 7 else raw
                pos += 2 + length
            elif kind == 0 or kind == 1:
                value = kind == 0
            elif kind == 9:
                value = data[pos : pos + 16]
                pos += 16
            else:
                fixed = _FIXED[kind]
                (value,) = fixed.unpack_from(data, pos)
                pos += fixed.size
            if pos > end:
                raise MalformedFrame("an event-stream header runs past the headers section")
            if name in headers:
                raise botocore.eventstream.DuplicateHeader(name)
            headers[name] = value
    except (IndexError, KeyError, struct.error, UnicodeDecodeError) as exc:
        raise MalformedFrame(f"unreadable event-stream header: {type(exc).__name__}") from None
    return headers


def frame_error(headers: Headers, payload: bytes, operation: str) -> Exception | None:
    """The exception an exception/error frame stands for (as the SDK raises it), or None."""
    kind = headers.get(":message-type")
    if kind == "event":  # nearly every frame: nothing to build
        return None
    extra: dict[str, Any] = {}
    if kind == "exception":
        code = str(headers.get(":exception-type", ""))
        try:
            body = json.loads(payload)
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        message = body.get("message", body.get("Message", ""))
        # modelStreamErrorException's model status and message: kept beside Error, where
        # botocore puts a ClientError's modelled members (its own decoder drops them).
        extra = {k: body[k] for k in ("originalStatusCode", "originalMessage") if k in body}
    elif kind == "error":
        code = str(headers.get(":error-code", ""))
        message = str(headers.get(":error-message", ""))
    else:
        return None
    response: Any = {"Error": {"Code": code, "Message": message}, **extra}
    error: Exception = botocore.exceptions.EventStreamError(response, operation)
    return error


async def lean_events(raw_stream: Any, operation: str) -> AsyncIterator[dict[str, Any]]:
    """Events as `{event type: JSON payload}`, the shape the SDK yields for ConverseStream.

    `raw_stream` is the aiohttp response botocore keeps in its EventStream (`_raw_stream`):
    its body has not been read when the SDK returns. A `chunk` event's base64 `bytes` are
    decoded, as the SDK does for InvokeModelWithResponseStream.
    """
    decoder = FrameDecoder()
    # iter_any: everything read so far in one piece (iter_chunks hands out one HTTP chunk per
    # await: an await per frame when frames queue up behind a busy loop).
    async for chunk in raw_stream.content.iter_any():
        for headers, payload in decoder.feed(chunk):
            if (error := frame_error(headers, payload, operation)) is not None:
                raise error
            event_type = headers.get(":event-type")
            if not isinstance(event_type, str):
                continue
            event = fast_json.loads(payload) if payload else {}
            if event_type == "chunk" and isinstance(event, dict) and "bytes" in event:
                event["bytes"] = base64.b64decode(event["bytes"])
            yield {event_type: event}
