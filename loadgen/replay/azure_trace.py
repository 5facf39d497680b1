"""The Azure LLM inference trace (github.com/Azure/AzurePublicDataset, AzureLLMInferenceTrace
2023 and 2024): CSV with `TIMESTAMP` (the invocation time, to the sub-second),
`ContextTokens` and `GeneratedTokens`. It names no model and no operation: the replay sends
its records to the model `--model` or `map: {"*": ...}` names, through target.api."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from loadgen.replay.instants import parse_instant
from loadgen.replay.records import RecordSkip, ReplayRecord

HEADER = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")


def is_azure_header(header: list[str]) -> bool:
    return all(name in header for name in HEADER)


def read_azure(lines: list[str], name: str) -> Iterator[ReplayRecord | tuple[RecordSkip, str, str]]:
    """Each row as a record, or (reason, where, detail)."""
    for number, row in enumerate(csv.DictReader(lines), start=2):
        where = f"{name}:{number}"
        try:
            unix_us, whole_second = parse_instant(row["TIMESTAMP"] or "")
            input_tokens = int(row["ContextTokens"] or "")
            output_tokens = int(row["GeneratedTokens"] or "")
        except (ValueError, TypeError, KeyError) as exc:
            yield "malformed_record", where, f"row does not parse ({exc})"
            continue
        if input_tokens < 0 or output_tokens < 0:
            yield "malformed_record", where, "a negative token count"
            continue
        yield ReplayRecord(
            unix_us=unix_us,
            whole_second=whole_second,
            model=None,
            operation=None,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            where=where,
        )
