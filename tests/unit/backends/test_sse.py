"""Server-sent events framing as OpenAI-compatible servers write it."""

from __future__ import annotations

from collections.abc import AsyncIterator

from loadgen.backends.sse import sse_data


async def _lines(*lines: bytes) -> AsyncIterator[bytes]:
    for line in lines:
        yield line


async def _collect(*lines: bytes) -> list[str]:
    return [data async for data in sse_data(_lines(*lines))]


async def test_events_split_at_blank_lines() -> None:
    events = await _collect(
        b'data: {"a": 1}\n', b"\n", b'data: {"b": 2}\r\n', b"\r\n", b"data: [DONE]\n", b"\n"
    )
    assert events == ['{"a": 1}', '{"b": 2}', "[DONE]"]


async def test_comments_other_fields_and_multiline_data() -> None:
    events = await _collect(
        b": keep-alive\n", b"event: message\n", b"data:first\n", b"data: second\n", b"\n"
    )
    assert events == ["first\nsecond"]


async def test_last_event_without_its_blank_line_is_kept() -> None:
    assert await _collect(b"data: x\n") == ["x"]
    assert await _collect(b"\n", b"\n") == []
