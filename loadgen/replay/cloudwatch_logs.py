"""Invocation log records as CloudWatch Logs gives them back, unwrapped to the records.

Bedrock writes one record per log event (its `message` is the record's JSON). Two ways out
of CloudWatch Logs are read, both documented by AWS:
- `aws logs filter-log-events ... --output json` (FilterLogEvents): one JSON document,
  `{"events": [{"timestamp", "message", "logStreamName", "ingestionTime", "eventId"}, ...]}`
  (the CLI joins the pages); a list of such events is read as well;
- an export to S3 (CreateExportTask): gzipped text, one event a line, the event's ISO 8601
  time, a space, then the message.
A line without the time in front (the record alone, as Bedrock's S3 delivery writes it) is read
the same way, by layouts.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# An exported line: `2025-06-03T14:00:07.123Z {"schemaType": ...}`.
EXPORT_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}T[0-9:.]+Z?\s+(?=[{\[])")


def is_filter_log_events(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("events"), list)


def is_log_event(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("message"), str)


def event_messages(events: list[Any], name: str) -> Iterator[tuple[str | None, str]]:
    """(the event's message, where) per event; None for an event that has none."""
    for index, event in enumerate(events):
        message = event.get("message") if isinstance(event, dict) else None
        yield (message if isinstance(message, str) else None), f"{name} events[{index}]"


def strip_export_prefix(line: str) -> tuple[str, bool]:
    """The line without an export's leading time, and whether it had one."""
    found = EXPORT_PREFIX.match(line)
    return (line[found.end() :], True) if found else (line, False)
