"""The quality of each response against the row's annotations, and per model in the report.

Scored after the run from the texts the run kept in memory (loadgen/quality/kept_responses.py;
samples.jsonl holds them only with --keep-text), never on the event loop: scoring costs
milliseconds of CPU a response (ROUGE's stemmer most of it), which inside the run would delay
the very events being timed. A response is scored when it succeeded, was measured (not warmup) and
its row has `key_facts` or a `reference_summary` (docs/dataset-format.md).

Parts of a response's score, each in 0..1 (docs/quality.md):
- key_fact_coverage: share of the annotated facts the response states (loadgen/quality/keyfacts.py);
- structure: share of the asked-for section headings present;
- rouge_l: ROUGE-L F-measure against the reference summary (rouge-score, stemmed);
- length: 1 within [min_words, max_words], falling linearly outside;
and `score`, their weighted mean (weights in the scenario's `quality:` block).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from rouge_score.rouge_scorer import RougeScorer

from loadgen.config.quality_spec import QualitySpec
from loadgen.config.scenario import Scenario
from loadgen.core.report_parts import QualitySection, ScoreStats, WorstResponse
from loadgen.quality.kept_responses import Response
from loadgen.quality.keyfacts import StemmingTokenizer, Summary, coverage

STATS = ("mean", "p10", "p50")
# A section line in a prompt template: "Key points: bullet list." (no {placeholder} in it).
_SECTION_LINE = re.compile(r"^\s*(?P<name>[A-Z][A-Za-z][A-Za-z /&'-]{0,38}?)\s*:\s*(?P<rest>.*)$")


def sections_from_template(template: str) -> list[str]:
    """The headings a prompt asks for: lines `Heading: what to write` without placeholders.

    Lines that fill in the row (`Subject: {subject}`) are the input, not asked-for sections.
    """
    sections = []
    for line in template.splitlines():
        match = _SECTION_LINE.match(line)
        if match and match["rest"].strip() and "{" not in line:
            sections.append(match["name"])
    return sections


def has_references(rows: Iterable[Mapping[str, Any]]) -> bool:
    return any(_references(row) for row in rows)


def _references(row: Mapping[str, Any]) -> bool:
    return isinstance(row.get("key_facts"), dict) or bool(row.get("reference_summary"))


def _heading_pattern(section: str) -> re.Pattern[str]:
    # "Key points:", "**Key points**", "## Key points", "KEY POINTS -": a heading at a line start.
    words = r"[\s_]+".join(re.escape(w) for w in section.lower().split())
    return re.compile(rf"^[\s#>*_\-]*{words}[\s*_]*(?::|-|$)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class ResponseScore:
    model: str
    row_id: str
    score: float
    key_fact_coverage: float | None
    structure: float | None
    rouge_l: float | None
    length: float
    words: int
    compression: float | None  # response words / email body words
    missing_facts: tuple[str, ...]
    missing_sections: tuple[str, ...]

    def worst_entry(self) -> WorstResponse:
        return {
            "row_id": self.row_id,
            "score": round(self.score, 4),
            "key_fact_coverage": _round(self.key_fact_coverage),
            "structure": _round(self.structure),
            "rouge_l": _round(self.rouge_l),
            "words": self.words,
            "missing_facts": list(self.missing_facts[:10]),
            "missing_sections": list(self.missing_sections),
        }


class Scorer:
    def __init__(self, spec: QualitySpec, sections: list[str]) -> None:
        self._spec = spec
        self._sections = [(name, _heading_pattern(name)) for name in sections]
        self._rouge = RougeScorer(["rougeL"], tokenizer=StemmingTokenizer())

    def score(self, model: str, row_id: str, row: Mapping[str, Any], text: str) -> ResponseScore:
        key_facts = row.get("key_facts")
        facts = coverage(Summary(text), key_facts) if isinstance(key_facts, dict) else None
        missing_sections = tuple(
            name for name, pattern in self._sections if not pattern.search(text)
        )
        structure = 1 - len(missing_sections) / len(self._sections) if self._sections else None
        reference = row.get("reference_summary")
        rouge = self._rouge.score(str(reference), text)["rougeL"].fmeasure if reference else None
        words = len(text.split())
        body_words = len(str(row.get("body", "")).split())
        length = self._length_score(words)
        weights = self._spec.weights
        parts = [
            (weights.key_facts, None if facts is None else facts.share),
            (weights.structure, structure),
            (weights.rouge_l, rouge),
            (weights.length, length),
        ]
        weighed = [(w, v) for w, v in parts if v is not None and w > 0]
        total_weight = sum(w for w, _ in weighed)
        score = sum(w * v for w, v in weighed) / total_weight if total_weight else 0.0
        return ResponseScore(
            model=model,
            row_id=row_id,
            score=score,
            key_fact_coverage=None if facts is None else facts.share,
            structure=structure,
            rouge_l=rouge,
            length=length,
            words=words,
            compression=words / body_words if body_words else None,
            missing_facts=() if facts is None else facts.missing,
            missing_sections=missing_sections,
        )

    def _length_score(self, words: int) -> float:
        low, high = self._spec.min_words, self._spec.max_words
        if words < low:
            return words / low
        if words > high:
            return max(0.0, 1 - (words - high) / high)
        return 1.0


def rows_with_references(rows_by_id: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {row_id: row for row_id, row in rows_by_id.items() if _references(row)}


# Below this many responses one thread scores them in seconds; above it, worker processes
# share the work (a long run at a high rate holds hundreds of thousands).
PARALLEL_FROM = 2000
_BATCH = 10_000  # responses handed to the pool at a time (a stop is heard between batches)


def score_responses(
    responses: Iterable[Response],
    rows_by_id: Mapping[str, Mapping[str, Any]],
    spec: QualitySpec,
    sections: list[str],
    *,
    parallel_from: int = PARALLEL_FROM,
    workers: int | None = None,
    cancelled: threading.Event | None = None,
) -> list[ResponseScore]:
    """Score every response whose row has references (the run keeps only measured,
    successful ones: KeptResponses).

    `cancelled` set (the run was stopped while scoring): stop between responses or batches,
    so that a stopped run does not wait for the rest; what was scored so far is returned."""
    cancelled = cancelled or threading.Event()
    references = rows_with_references(rows_by_id)
    items = (response for response in responses if response.row_id in references)
    first = list(itertools.islice(items, parallel_from))
    if len(first) < parallel_from:
        scorer = Scorer(spec, sections)
        scored = []
        for model, row, text in first:
            if cancelled.is_set():
                break
            scored.append(scorer.score(model, row, references[row], text))
        return scored
    scores: list[ResponseScore] = []
    with ProcessPoolExecutor(
        max_workers=workers or os.cpu_count() or 1,
        # spawn: a fork of this process (threads of the SDK and the loop) could deadlock.
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_start_worker,
        initargs=(references, spec, sections),
    ) as pool:
        batch = first
        while batch and not cancelled.is_set():
            scores.extend(pool.map(_score_in_worker, batch, chunksize=100))
            batch = list(itertools.islice(items, _BATCH))
    return scores


_worker: tuple[Scorer, Mapping[str, Mapping[str, Any]]] | None = None


def _start_worker(
    references: Mapping[str, Mapping[str, Any]], spec: QualitySpec, sections: list[str]
) -> None:
    global _worker
    _worker = (Scorer(spec, sections), references)


def _score_in_worker(item: Response) -> ResponseScore:
    assert _worker is not None, "the pool's initializer sets up each worker"
    scorer, references = _worker
    model, row_id, text = item
    return scorer.score(model, row_id, references[row_id], text)


def model_sections(
    scores: Iterable[ResponseScore], models: Iterable[str], worst: int = 3
) -> dict[str, QualitySection]:
    """The `quality` section of each model in the report (docs/report.md)."""
    by_model: dict[str, list[ResponseScore]] = defaultdict(list)
    for score in scores:
        by_model[score.model].append(score)
    return {model: model_section(by_model.get(model, []), worst) for model in models}


def model_section(scores: list[ResponseScore], worst: int = 3) -> QualitySection:
    ranked = sorted(scores, key=lambda s: (s.score, s.row_id))
    return {
        "score": _stats(s.score for s in scores),
        "key_fact_coverage": _stats(s.key_fact_coverage for s in scores),
        "structure": _stats(s.structure for s in scores),
        "rouge_l": _stats(s.rouge_l for s in scores),
        "length_words": _stats(s.words for s in scores),
        "compression": _stats(s.compression for s in scores),
        "scored": len(scores),
        "worst": [s.worst_entry() for s in ranked[:worst]],
    }


def _stats(values: Iterable[float | int | None]) -> ScoreStats:
    present = np.array([v for v in values if v is not None], dtype=float)
    if present.size == 0:
        return {"mean": None, "p10": None, "p50": None}
    return {
        "mean": _round(float(present.mean())),
        "p10": _round(float(np.percentile(present, 10))),
        "p50": _round(float(np.percentile(present, 50))),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def scoring_wanted(scenario: Scenario, rows: Iterable[Mapping[str, Any]], enabled: bool) -> bool:
    """Score when asked (not --no-quality, not `quality: {enabled: false}`) and the dataset
    carries references; a scenario without them skips scoring without a word."""
    return enabled and scenario.quality.enabled and has_references(rows)


def scenario_sections(scenario: Scenario) -> list[str]:
    if scenario.quality.sections is not None:
        return list(scenario.quality.sections)
    return sections_from_template(scenario.prompt.template)


def report_sections(
    scenario: Scenario,
    rows_by_id: Mapping[str, Mapping[str, Any]],
    responses: Iterable[Response],
    cancelled: threading.Event | None = None,
) -> dict[str, QualitySection]:
    """The `quality` section of every model of the scenario, from the run's kept responses."""
    scores = score_responses(
        responses,
        rows_by_id,
        scenario.quality,
        scenario_sections(scenario),
        cancelled=cancelled,
    )
    return model_sections(scores, [m.id for m in scenario.models], scenario.quality.worst)
