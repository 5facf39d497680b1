"""Requested against actual tokens, per model, for the prompts of a synthetic dataset: how
near each prompt landed on its input count (as the server counted it) and each response on its
output count.

Only answered requests with the server's usage count: an estimate (no usage) would compare the
prompt with itself. Four counts a request, kept in compact arrays until the report.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from loadgen.core.sample import Sample


@dataclass
class _Counts:
    requested_input: array[int] = field(default_factory=lambda: array("q"))
    actual_input: array[int] = field(default_factory=lambda: array("q"))
    requested_output: array[int] = field(default_factory=lambda: array("q"))
    actual_output: array[int] = field(default_factory=lambda: array("q"))


@dataclass(frozen=True)
class Percentiles:
    p50: float | None
    p95: float | None


@dataclass(frozen=True)
class RequestedActual:
    """One direction (input or output) of one model: the two distributions and the error,
    relative to what was requested: |actual - requested| / requested (p50, p95), and its signed
    mean (a bias: negative when the counts come out short)."""

    requested: Percentiles
    actual: Percentiles
    relative_error: Percentiles
    mean_relative_error: float | None


class TokenAccuracy:
    """Folds each Sample of a synthetic prompt: requested counts by row_id."""

    def __init__(self, requested: Mapping[str, tuple[int, int]]) -> None:
        self._requested = dict(requested)
        self._models: dict[str, _Counts] = {}

    def add(self, sample: Sample) -> None:
        if sample.error is not None or sample.input_tokens is None or sample.tokens_estimated:
            return
        requested = self._requested.get(sample.row_id)
        if requested is None:
            return
        counts = self._models.get(sample.model)
        if counts is None:
            counts = self._models[sample.model] = _Counts()
        # All of the prompt's tokens: cache reads and writes are input the server counted apart.
        actual_input = (
            sample.input_tokens + (sample.cache_read_tokens or 0) + (sample.cache_write_tokens or 0)
        )
        counts.requested_input.append(requested[0])
        counts.actual_input.append(actual_input)
        counts.requested_output.append(requested[1])
        counts.actual_output.append(sample.output_tokens or 0)

    def models(self) -> list[str]:
        return sorted(self._models)

    def compared(self, model: str) -> int:
        """How many requests of the model were compared."""
        counts = self._models.get(model)
        return 0 if counts is None else len(counts.requested_input)

    def input(self, model: str) -> RequestedActual:
        counts = self._models.get(model, _Counts())
        return _compare(counts.requested_input, counts.actual_input)

    def output(self, model: str) -> RequestedActual:
        counts = self._models.get(model, _Counts())
        return _compare(counts.requested_output, counts.actual_output)


def _compare(requested: array[int], actual: array[int]) -> RequestedActual:
    if not requested:
        none = Percentiles(None, None)
        return RequestedActual(none, none, none, None)
    wanted = np.frombuffer(requested, dtype=np.int64).astype(np.float64)
    got = np.frombuffer(actual, dtype=np.int64).astype(np.float64)
    error = (got - wanted) / wanted
    return RequestedActual(
        requested=_percentiles(wanted),
        actual=_percentiles(got),
        relative_error=_percentiles(np.abs(error), digits=4),
        mean_relative_error=round(float(error.mean()), 4),
    )


def _percentiles(values: np.ndarray, digits: int = 1) -> Percentiles:
    p50, p95 = np.percentile(values, [50, 95])
    return Percentiles(round(float(p50), digits), round(float(p95), digits))
