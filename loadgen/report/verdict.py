"""Which model to ship: each model against the scenario's requirements, and the Pareto front.

Evaluated on the finished report (quality included), so a requirement reads exactly the
figures the report shows. Requirements never change the exit code; thresholds do.

The Pareto front is taken on three axes: cost per 1,000 requests (lower is better), TTLT p95
from send (lower) and mean quality score (higher). A model is on the front when no other
model is at least as good on every axis and better on one. An axis no model has data for
(quality without references, cost of unpriced models) is left out; a model missing a value on
an axis that is used counts as the worst there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from loadgen.config.thresholds import Check, evaluate
from loadgen.report.schema import (
    ModelSection,
    ParetoAxis,
    VerdictFigures,
    VerdictModel,
    VerdictSection,
)


def _cost_per_1k(section: ModelSection) -> float | None:
    """USD per 1,000 answered requests: the spend over the answers it bought, so throttled or
    failed requests do not make a model look cheaper (the `cost_per_1k` requirement reads the
    same figure)."""
    cost = section["cost"]
    return None if cost is None else cost["per_1k_answered_usd"]


def _quality(section: ModelSection, stat: Literal["mean", "p10"]) -> float | None:
    quality = section.get("quality")  # null, or absent from a merged report: not scored
    return None if quality is None else quality["score"][stat]


def _service(
    section: ModelSection, metric: Literal["ttft", "ttlt"], stat: Literal["p50", "p95"]
) -> float | None:
    return section["latency_ms"][metric]["service"][stat]


# (name in the report, reader, +1 when higher is better / -1 when lower is better)
PARETO_AXES: tuple[tuple[ParetoAxis, Callable[[ModelSection], float | None], int], ...] = (
    ("cost_per_1k", _cost_per_1k, -1),
    ("ttlt_p95_ms", lambda section: _service(section, "ttlt", "p95"), -1),
    ("quality_mean", lambda section: _quality(section, "mean"), +1),
)


def build_verdict(
    requirements: Sequence[Check], models: Mapping[str, ModelSection]
) -> VerdictSection:
    outcomes = evaluate(requirements, models)
    per_model: dict[str, VerdictModel] = {}
    for model, section in models.items():
        results = [o.to_json() for o in outcomes if o.model == model]
        per_model[model] = {
            **_figures(section),
            "meets_all": all(r["passed"] for r in results),
            "met": sum(r["passed"] for r in results),
            "missed": sum(not r["passed"] for r in results),
            "requirements": results,
        }
    axes, front = pareto_front(models)
    return {
        "requirements": [check.text for check in requirements],
        "models": per_model,
        "meeting_all": [m for m, v in per_model.items() if v["meets_all"]],
        "pareto": {"axes": axes, "front": front},
    }


def _figures(section: ModelSection) -> VerdictFigures:
    """The comparison a team weighs: quality, speed, throughput, errors, cost."""
    return {
        "quality_mean": _quality(section, "mean"),
        "quality_p10": _quality(section, "p10"),
        "ttft_p50_ms": _service(section, "ttft", "p50"),
        "ttft_p95_ms": _service(section, "ttft", "p95"),
        "ttlt_p50_ms": _service(section, "ttlt", "p50"),
        "ttlt_p95_ms": _service(section, "ttlt", "p95"),
        "output_tokens_per_s": section["throughput"]["output_tokens_per_s"],
        "error_rate": section["requests"]["error_rate"],
        # One answered request summarises one email: the console calls this "$ / 1k emails".
        "cost_per_1k_answered_usd": _cost_per_1k(section),
    }


def pareto_front(models: Mapping[str, ModelSection]) -> tuple[list[ParetoAxis], list[str]]:
    """The axes used and the models no other model dominates, in the report's model order."""
    used = [
        (name, read, sign)
        for name, read, sign in PARETO_AXES
        if any(read(section) is not None for section in models.values())
    ]
    # Every axis as "higher is better"; a missing value is the worst possible.
    points = {
        model: tuple(
            -math.inf if (v := read(section)) is None else sign * float(v) for _, read, sign in used
        )
        for model, section in models.items()
    }
    front = [
        model
        for model, point in points.items()
        if not any(_dominates(other, point) for name, other in points.items() if name != model)
    ]
    return [name for name, _, _ in used], front


def _dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(
        x > y for x, y in zip(a, b, strict=True)
    )
