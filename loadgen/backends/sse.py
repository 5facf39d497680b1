"""Server-sent events (the text/event-stream framing of OpenAI-compatible streams).

Lines of `field: value`; an event is dispatched at a blank line, its `data` lines joined by
newlines. Comments (`:`) and fields other than `data` carry nothing a chat stream needs.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator


async def sse_data(lines: AsyncIterable[bytes]) -> AsyncIterator[str]:
    """The data of each event, in order; a last event without its blank line is still given."""
    data: list[str] = []
    async for raw in lines:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value.removeprefix(" "))
    if data:
        yield "\n".join(data)
