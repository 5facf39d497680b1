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
    # A synthetic prompt's shape (loadgen/plan/synthetic.py): the input tokens its text was
    # made to, and the output tokens it asks for (the request's max_tokens). None for rows.
    input_tokens: int | None = None
    output_tokens: int | None = None
    # Ask an OpenAI-compatible server to ignore end-of-sequence (vLLM, SGLang honour it).
    ignore_eos: bool = False


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
