"""Logged instants as integer microseconds since the Unix epoch (UTC), and whether a log gave
them to the second only (Bedrock's invocation logs do: they are spread within it)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_FRACTION = re.compile(r"\d{2}:\d{2}:\d{2}[.,]\d")


def parse_instant(text: str) -> tuple[int, bool]:
    """(µs since the epoch, logged to the whole second) of an ISO 8601 / RFC 3339 time such
    as `2025-06-03T14:00:07Z` or `2023-11-16 18:17:03.9799600`; a time without a zone is UTC.
    ValueError when it is not one."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    seconds = int(moment.timestamp() // 1)
    return seconds * 1_000_000 + moment.microsecond, _FRACTION.search(text) is None


def iso_utc(unix_us: int) -> str:
    """`2025-06-03T14:00:07.250Z`, for reports and messages."""
    moment = datetime.fromtimestamp(unix_us / 1e6, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
