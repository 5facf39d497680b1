"""What one request asks, as the plan hands it to the runner and the runner to a backend.

Plain frozen records: loadgen/plan/ builds them from the scenario and the seed, the runner
(loadgen/engine/runner.py) sends each `Planned` at its offset, and a backend reads the `Request`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Prompt:
    """What one request asks: the rendered user text, the system text, the row it came from."""

    row_id: str
    system: str | None
    user: str


@dataclass(frozen=True, slots=True)
class Request:
    request_id: int
    model: str
    prompt: Prompt
    max_tokens: int
    temperature: float | None = None
    top_p: float | None = None
    api: str | None = None  # which API carries it when a run uses two (compare_streaming)


@dataclass(frozen=True, slots=True)
class Planned:
    """One scheduled request: its offset from the phase start and what it asks."""

    offset_ns: int
    request: Request
    warmup: bool
