"""The response texts quality scoring needs, kept in memory while the run goes on.

samples.jsonl carries no text unless `--keep-text` asks for it, so the scorer cannot read the
texts back from there after the run: the run hands each Sample to `KeptResponses.add` as it
books it, and only what will be scored is kept: measured (not warmup), successful responses
to rows that have references. Everything else is dropped at once, so a run holds no more text
than its scoring reads (docs/quality.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import NamedTuple

from loadgen.core.sample import Sample


class Response(NamedTuple):
    """One response to score: its model, its dataset row, its text."""

    model: str
    row_id: str
    text: str


class KeptResponses:
    def __init__(self, scored_rows: Iterable[str]) -> None:
        """`scored_rows`: the ids of the rows with references (scoring.rows_with_references)."""
        self._scored_rows = frozenset(scored_rows)
        self._responses: list[Response] = []

    def add(self, sample: Sample) -> None:
        """Keep the sample's text if it will be scored; runs on the event loop, once a request."""
        text = sample.response_text
        if (
            text is not None
            and sample.error is None
            and not sample.warmup
            and sample.row_id in self._scored_rows
        ):
            self._responses.append(Response(sample.model, sample.row_id, text))

    def __iter__(self) -> Iterator[Response]:
        return iter(self._responses)

    def __len__(self) -> int:
        return len(self._responses)


def responses_of(samples: Iterable[Sample]) -> Iterator[Response]:
    """The scorable responses among `samples` (a samples.jsonl written with --keep-text, read
    back with read_samples): measured, successful, with a text."""
    for sample in samples:
        if sample.response_text is not None and sample.error is None and not sample.warmup:
            yield Response(sample.model, sample.row_id, sample.response_text)
