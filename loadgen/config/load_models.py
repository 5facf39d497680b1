"""Load models: which of them a scenario's `load:` asks for, and the arrivals it gives.

Open loop (the default) sends at instants fixed in advance: a constant rate, a linear ramp
(`ramp: {from, to}` over the duration) or a list of `stages` (a rate held for a duration each),
with constant, Poisson or gamma (bursty) gaps. Closed loop (`concurrency: N`) is a different
kind of test: N users each send their next request when the previous one ends, so the rate is an
outcome, not a target, and schedule lag means nothing.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from pydantic import ConfigDict, Field, model_validator

from loadgen.config.base import Seconds
from loadgen.config.base import StrictModel as _Strict
from loadgen.core.report_parts import LoadInfo

OPEN_LOOP = "open_loop"
CLOSED_LOOP = "closed_loop"
SHAPE_KEYS = ("rate", "ramp", "stages", "concurrency")


class StageSpec(_Strict):
    """One stage of a staged load: hold `rate` for `duration` (0 pauses)."""

    rate: float = Field(ge=0, le=100_000)
    duration: Seconds = Field(gt=0, le=30 * 86400)


class RampSpec(_Strict):
    """A rate that goes linearly from `from` to `to` over load.duration."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    start: float = Field(alias="from", ge=0, le=100_000)
    to: float = Field(ge=0, le=100_000)

    @model_validator(mode="after")
    def _not_all_zero(self) -> RampSpec:
        if self.start == 0 and self.to == 0:
            raise ValueError("a ramp from 0 to 0 sends nothing; give `to` > 0")
        return self


class LoadSpec(_Strict):
    rate: float = Field(1.0, ge=0.001, le=100_000, description="requests per second")
    arrival: Literal["constant", "poisson", "gamma"] = "poisson"
    cv: float | None = Field(
        None, gt=0, le=20, description="gamma gaps' coefficient of variation (1: Poisson)"
    )
    ramp: RampSpec | None = None
    stages: list[StageSpec] | None = Field(None, min_length=1)
    concurrency: int | None = Field(
        None, ge=1, le=100_000, description="closed loop: this many users, one request each"
    )
    duration: Seconds | None = Field(None, gt=0, le=30 * 86400)
    requests: int | None = Field(None, ge=1)
    warmup: Seconds = Field(0.0, ge=0, le=86400)
    max_in_flight: int = Field(1000, ge=1, le=100_000)
    model_order: Literal["shared", "sequential"] = "shared"

    @model_validator(mode="after")
    def _how_long(self) -> LoadSpec:
        if self.duration is None and self.requests is None and self.stages is None:
            raise ValueError("give load.duration (e.g. 30s) or load.requests (a count)")
        return self

    @model_validator(mode="after")
    def _one_load_model(self) -> LoadSpec:
        check_load_model(self)
        return self

    @property
    def model(self) -> str:
        """The load model's name, as the report gives it."""
        return load_model_name(self)


def check_load_model(load: LoadSpec) -> None:
    """Raise ValueError, in the scenario's words, for a `load:` that mixes load models."""
    given = [key for key in SHAPE_KEYS if key != "rate" and getattr(load, key) is not None]
    if "rate" in load.model_fields_set:
        given.insert(0, "rate")
    if len(given) > 1:
        raise ValueError(
            f"give one of load.rate, load.ramp, load.stages or load.concurrency; "
            f"found {' and '.join(given)}"
        )
    if load.ramp is not None and load.duration is None:
        raise ValueError("load.ramp runs over load.duration: give a duration (e.g. 60s)")
    if load.stages is not None and (load.duration is not None or load.requests is not None):
        raise ValueError("load.stages set their own length: drop load.duration and load.requests")
    if load.arrival == "gamma" and load.cv is None:
        raise ValueError(
            "arrival gamma needs load.cv, the gaps' coefficient of variation "
            "(1 is Poisson, 2 is bursty, 0.5 smoother)"
        )
    if load.cv is not None and load.arrival != "gamma":
        raise ValueError("load.cv applies to arrival: gamma only")
    if load.concurrency is not None and load.concurrency > load.max_in_flight:
        raise ValueError(
            f"load.concurrency {load.concurrency} is above load.max_in_flight "
            f"{load.max_in_flight}: raise max_in_flight or lower the concurrency"
        )


def load_model_name(load: LoadSpec) -> str:
    return CLOSED_LOOP if load.concurrency is not None else OPEN_LOOP


def rate_shape(load: LoadSpec) -> str | None:
    """constant | ramp | stages for open loop; None for closed loop (there is no rate)."""
    if load.concurrency is not None:
        return None
    if load.ramp is not None:
        return "ramp"
    if load.stages is not None:
        return "stages"
    return "constant"


def replace_load_model(merged: dict[str, Any], overrides: dict[str, Any]) -> None:
    """A load model given on the command line (--rps, --concurrency) replaces the scenario's,
    and an arrival other than gamma drops the scenario's cv."""
    given = overrides.get("load", {})
    load = merged.get("load")
    if not isinstance(load, dict) or not isinstance(given, dict):
        return
    if any(key in given for key in SHAPE_KEYS):
        for key in SHAPE_KEYS:
            if key not in given:
                load.pop(key, None)
    if given.get("arrival") not in (None, "gamma"):
        load.pop("cv", None)


def target_rps(load: LoadSpec) -> float | None:
    """The mean target rate over the measured part; None in closed loop."""
    if load.concurrency is not None:
        return None
    if load.ramp is not None:
        return (load.ramp.start + load.ramp.to) / 2
    if load.stages is not None:
        total_s = sum(s.duration for s in load.stages)
        return sum(s.rate * s.duration for s in load.stages) / total_s
    return load.rate


def describe(load: LoadSpec) -> LoadInfo:
    """report.run.load: the scenario's load section, named by its model."""
    described: dict[str, Any] = {
        "model": load_model_name(load),
        "rate_shape": rate_shape(load),
        **load.model_dump(mode="json", by_alias=True),
    }
    if load.concurrency is not None:
        described["note"] = (
            "closed loop: each user sends its next request when the previous one ends, so the "
            "rate is an outcome, not a target; schedule lag and response time cannot show "
            "coordinated omission here"
        )
    # The load model's own dump: should its fields and LoadInfo's part, a real run's report
    # fails the schema (tests/unit/report/test_report_schema.py).
    return cast(LoadInfo, described)
