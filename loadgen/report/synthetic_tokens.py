"""report.json's `dataset` section for a synthetic dataset: how each model's tokens were
counted, and requested against actual tokens (loadgen/record/token_accuracy.py)."""

from __future__ import annotations

from collections.abc import Iterable

from loadgen.config.synthetic_spec import SyntheticSpec
from loadgen.plan.synthetic import CharsPerToken, TiktokenCounter, TokenCounter
from loadgen.record.token_accuracy import RequestedActual, TokenAccuracy
from loadgen.report.schema import (
    DatasetSection,
    RequestedActualTokens,
    SyntheticModelTokens,
    TokenMethod,
)

# From the least exact to the most: the section's own token_method is the least exact used.
_EXACTNESS: tuple[TokenMethod, ...] = ("default", "calibrated", "tokenizer:tiktoken")


def dataset_section(
    spec: SyntheticSpec,
    counters: dict[str, TokenCounter],
    accuracy: TokenAccuracy,
    models: Iterable[str],
) -> DatasetSection:
    sections = {model: _model(counters[model], accuracy, model) for model in models}
    methods = [section["token_method"] for section in sections.values()] or ["default"]
    return {
        "kind": "synthetic",
        "token_method": min(methods, key=_EXACTNESS.index),
        "shared_prefix_tokens": spec.shared_prefix,
        "ignore_eos": spec.ignore_eos,
        "models": sections,
    }


def _model(counter: TokenCounter, accuracy: TokenAccuracy, model: str) -> SyntheticModelTokens:
    ratio = counter.chars_per_token if isinstance(counter, CharsPerToken) else None
    overhead = (
        counter.overhead_tokens if isinstance(counter, CharsPerToken | TiktokenCounter) else None
    )
    return {
        "token_method": counter.method,
        "chars_per_token": None if ratio is None else round(ratio, 4),
        "overhead_tokens": overhead,
        "compared": accuracy.compared(model),
        "input": _direction(accuracy.input(model)),
        "output": _direction(accuracy.output(model)),
    }


def _direction(found: RequestedActual) -> RequestedActualTokens:
    return {
        "requested": {"p50": found.requested.p50, "p95": found.requested.p95},
        "actual": {"p50": found.actual.p50, "p95": found.actual.p95},
        "relative_error": {"p50": found.relative_error.p50, "p95": found.relative_error.p95},
        "mean_relative_error": found.mean_relative_error,
    }


def console_lines(section: DatasetSection) -> list[str]:
    """One line per model for the console summary: requested against actual, input and
    output, and how tokens were counted."""
    lines = []
    for model, tokens in section["models"].items():
        into, out = tokens["input"], tokens["output"]
        lines.append(
            f"synthetic tokens {model} ({tokens['token_method']}): input requested p50 "
            f"{_count(into['requested']['p50'])}, got {_count(into['actual']['p50'])} "
            f"(error p50 {_percent(into['relative_error']['p50'])}, p95 "
            f"{_percent(into['relative_error']['p95'])}); output requested p50 "
            f"{_count(out['requested']['p50'])}, got {_count(out['actual']['p50'])}"
        )
    return lines


def _count(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"
