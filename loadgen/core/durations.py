"""Human durations ("30s", "2m", "500ms", "1h30m", or plain seconds) to seconds."""

from __future__ import annotations

import re

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")


def parse_duration(value: str | float | int) -> float:
    """Seconds in `value`. Raises ValueError with the accepted forms on bad input."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30s, 2m or 500ms, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    text = value.strip().lower().replace(" ", "")
    try:
        return float(text)
    except ValueError:
        pass
    position, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(text) or not text:
        raise ValueError(f"expected a duration such as 30s, 2m, 1h30m or 500ms, got {value!r}")
    return total


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:g}ms"
    if seconds < 120:
        return f"{seconds:g}s"
    return f"{seconds / 60:g}m"
