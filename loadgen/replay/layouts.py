"""One file's bytes as records: gzip or not, and which layout, told from the content (never
from the name: S3 keys and exports are named by their writers, not by what is inside).

Layouts (docs/replay.md, "Sources"):
- `bedrock-invocation-log`: one invocation record of JSON a line (Bedrock's S3 delivery, gzipped),
  or one record, or a JSON list of them;
- `cloudwatch-export`: the same records, each line led by its event's time (CreateExportTask);
- `cloudwatch-filter-log-events`: `aws logs filter-log-events --output json`;
- `azure-llm-trace` and `burstgpt`: the public traces' CSV.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from loadgen.replay.azure_trace import is_azure_header, read_azure
from loadgen.replay.burstgpt import is_burstgpt_header, read_burstgpt
from loadgen.replay.cloudwatch_logs import (
    EXPORT_PREFIX,
    event_messages,
    is_filter_log_events,
    is_log_event,
    strip_export_prefix,
)
from loadgen.replay.gzipped import gunzip, is_gzip
from loadgen.replay.invocation_log import is_invocation_record, parse_record
from loadgen.replay.records import RecordSkip, ReplayRecord, Skips


@dataclass
class FileRead:
    """What one file gave: its layout (None: not read) and its records, in file order."""

    layout: str | None = None
    records: list[ReplayRecord] = field(default_factory=list)


def read_file(name: str, data: bytes, skips: Skips) -> FileRead:
    """The file's records; what cannot be read is counted in `skips`."""
    damage = None
    if is_gzip(data):
        data, damage = gunzip(data)
        if damage is not None:
            # The last line was cut by the damage: only whole lines are read.
            data = data[: data.rfind(b"\n") + 1]
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        skips.file("not_utf8", name, f"byte {exc.start} is not UTF-8")
        return FileRead()
    read = _read_text(name, text, skips)
    if damage is not None:
        skips.file(
            "gzip_corrupt",
            name,
            f"{damage}; the {len(read.records)} records before the damage are kept, what "
            "follows it is lost",
        )
    return read


def _read_text(name: str, text: str, skips: Skips) -> FileRead:
    head = text.lstrip()
    if not head:
        return FileRead()  # an empty file (an empty delivery) holds no record to count
    if head[0] in "{[":
        try:
            whole = json.loads(text)
        except json.JSONDecodeError:
            whole = None  # JSON Lines: one value a line
        if isinstance(whole, dict | list):
            return _read_document(name, whole, skips)
        return _collect("bedrock-invocation-log", _json_lines(name, text), skips)
    first_line = head.splitlines()[0]
    if EXPORT_PREFIX.match(first_line):
        return _collect("cloudwatch-export", _json_lines(name, text), skips)
    header = [cell.strip() for cell in first_line.split(",")]
    lines = text.splitlines()
    if is_azure_header(header):
        return _collect("azure-llm-trace", read_azure(lines, name), skips)
    if is_burstgpt_header(header):
        return _collect("burstgpt", read_burstgpt(lines, name), skips)
    skips.file(
        "unknown_layout",
        name,
        f"starts {first_line[:60]!r}: not an invocation log, a CloudWatch Logs export or a "
        "known trace",
    )
    return FileRead()


def _read_document(name: str, whole: Any, skips: Skips) -> FileRead:
    """A file that is one JSON value: filter-log-events output, a list, or one record."""
    if is_filter_log_events(whole):
        return _collect(
            "cloudwatch-filter-log-events", _messages(event_messages(whole["events"], name)), skips
        )
    if isinstance(whole, list):
        if whole and all(is_log_event(item) for item in whole):
            return _collect(
                "cloudwatch-filter-log-events", _messages(event_messages(whole, name)), skips
            )
        values = ((item, f"{name}[{index}]") for index, item in enumerate(whole))
        return _collect("bedrock-invocation-log", _parsed(values), skips)
    if is_invocation_record(whole):
        return _collect("bedrock-invocation-log", _parsed([(whole, name)]), skips)
    skips.file("unknown_layout", name, "a JSON document that holds no invocation records")
    return FileRead()


def _json_lines(name: str, text: str) -> Iterator[ReplayRecord | tuple[RecordSkip, str, str]]:
    # Lines end at "\n" only: a JSON string may hold U+2028, which splitlines takes for an end.
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        line, _ = strip_export_prefix(line)
        where = f"{name}:{number}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield "malformed_record", where, f"not JSON ({exc.msg} at column {exc.colno})"
            continue
        if is_log_event(value):  # an event per line: its message is the record
            yield from _messages([(value["message"], where)])
        else:
            yield from _parsed([(value, where)])


def _messages(
    messages: Iterable[tuple[str | None, str]],
) -> Iterator[ReplayRecord | tuple[RecordSkip, str, str]]:
    for message, where in messages:
        if message is None:
            yield "malformed_record", where, "a log event without a message"
            continue
        try:
            value = json.loads(message)
        except json.JSONDecodeError as exc:
            yield "malformed_record", where, f"the message is not JSON ({exc.msg})"
            continue
        yield from _parsed([(value, where)])


def _parsed(
    values: Iterable[tuple[Any, str]],
) -> Iterator[ReplayRecord | tuple[RecordSkip, str, str]]:
    for value, where in values:
        parsed = parse_record(value, where)
        if isinstance(parsed, ReplayRecord):
            yield parsed
        else:
            yield parsed[0], where, parsed[1]


def _collect(
    layout: str, items: Iterable[ReplayRecord | tuple[RecordSkip, str, str]], skips: Skips
) -> FileRead:
    read = FileRead(layout)
    for item in items:
        if isinstance(item, ReplayRecord):
            read.records.append(item)
        else:
            skips.record(*item)
    return read
