"""What reading a replay's sources gave: the records in read order, and what was skipped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from loadgen.replay.records import ReplayRecord, Skips


@dataclass
class ReadResult:
    records: list[ReplayRecord] = field(default_factory=list)
    skips: Skips = field(default_factory=Skips)
    layouts: Counter[str] = field(default_factory=Counter)  # records read, by layout
    files: int = 0  # files and objects read (or tried)
