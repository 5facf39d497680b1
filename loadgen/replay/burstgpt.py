"""BurstGPT (github.com/HPMLL/BurstGPT): CSV with `Timestamp` (seconds from the trace's
start), `Model` (ChatGPT or GPT-4), `Request tokens`, `Response tokens`, `Total tokens` and
`Log Type`. Its README says a row with 0 response tokens is a failed request: those are
counted as failed calls. Its models are not Bedrock's: map them (`--map ChatGPT=...`)."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from loadgen.replay.records import RecordSkip, ReplayRecord

HEADER = ("Timestamp", "Model", "Request tokens", "Response tokens")


def is_burstgpt_header(header: list[str]) -> bool:
    return all(name in header for name in HEADER)


def read_burstgpt(
    lines: list[str], name: str
) -> Iterator[ReplayRecord | tuple[RecordSkip, str, str]]:
    """Each row as a record, or (reason, where, detail)."""
    for number, row in enumerate(csv.DictReader(lines), start=2):
        where = f"{name}:{number}"
        try:
            seconds = float(row["Timestamp"] or "")
            input_tokens = int(row["Request tokens"] or "")
            output_tokens = int(row["Response tokens"] or "")
        except (ValueError, TypeError, KeyError) as exc:
            yield "malformed_record", where, f"row does not parse ({exc})"
            continue
        model = (row.get("Model") or "").strip()
        if seconds < 0 or input_tokens < 0 or output_tokens < 0 or not model:
            yield "malformed_record", where, "a negative figure or no model"
            continue
        if output_tokens == 0:
            yield "failed_call", where, "0 response tokens (BurstGPT's failed requests)"
            continue
        yield ReplayRecord(
            unix_us=round(seconds * 1e6),
            whole_second=seconds.is_integer(),
            model=model,
            operation=None,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            where=where,
        )
