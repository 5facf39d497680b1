"""Load models: which of them a scenario's `load:` asks for, and the arrivals it gives.

Open loop (the default) sends at instants fixed in advance: a constant rate, a linear ramp
(`ramp: {from, to}` over the duration) or a list of `stages` (a rate held for a duration each),
with constant, Poisson or gamma (bursty) gaps. Closed loop (`concurrency: N`) is a different
kind of test: N users each send their next request when the previous one ends (after an
optional `think_time`), so the rate is an outcome, not a target, and schedule lag means nothing.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from pydantic import ConfigDict, Field, model_validator

from loadgen.config.base import Seconds
from loadgen.config.base import StrictModel as _Strict
from loadgen.config.replay_spec import ReplaySpec
from loadgen.core.report_parts import LoadInfo

OPEN_LOOP = "open"
CLOSED_LOOP = "closed"
SHAPE_KEYS = ("rate", "ramp", "stages", "concurrency", "replay")


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
    think_time: Seconds = Field(
        0.0, ge=0, le=3600, description="closed loop: a user's pause between answer and next"
    )
    duration: Seconds | None = Field(None, gt=0, le=30 * 86400)
    requests: int | None = Field(None, ge=1)
    warmup: Seconds = Field(0.0, ge=0, le=86400)
    max_in_flight: int = Field(1000, ge=1, le=100_000)
    model_order: Literal["shared", "sequential"] = "shared"
    # Open loop at the instants of a log of real traffic (docs/replay.md).
    replay: ReplaySpec | None = None

    @model_validator(mode="after")
    def _how_long(self) -> LoadSpec:
        if self.replay is not None:
            return self  # the log sets its own length (replay.window, replay.limit)
        if self.duration is None and self.requests is None and self.stages is None:
            raise ValueError("give load.duration (e.g. 30s) or load.requests (a count)")
        return self

    @model_validator(mode="after")
    def _one_load_model(self) -> LoadSpec:
        check_load_model(self)
        return self

    @property
    def loop(self) -> str:
        """open or closed, as the report's run.load.loop gives it."""
        return loop_of(self)


def check_load_model(load: LoadSpec) -> None:
    """Raise ValueError, in the scenario's words, for a `load:` that mixes load models."""
    given = [key for key in SHAPE_KEYS if key != "rate" and getattr(load, key) is not None]
    if "rate" in load.model_fields_set:
        given.insert(0, "rate")
    if len(given) > 1:
        raise ValueError(
            f"give one of load.rate, load.ramp, load.stages, load.concurrency or load.replay; "
            f"found {' and '.join(given)}"
        )
    if load.replay is not None:
        _check_replay(load)
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
    if load.think_time and load.concurrency is None:
        raise ValueError(
            "load.think_time is a closed-loop user's pause: give load.concurrency, or drop it"
        )
    if load.concurrency is not None and load.concurrency > load.max_in_flight:
        raise ValueError(
            f"load.concurrency {load.concurrency} is above load.max_in_flight "
            f"{load.max_in_flight}: raise max_in_flight or lower the concurrency"
        )


def _check_replay(load: LoadSpec) -> None:
    """A replay's arrivals, length and count come from the log and its own options."""
    fixed = [key for key in ("duration", "requests", "cv") if getattr(load, key) is not None]
    fixed += [
        key
        for key in ("warmup", "arrival", "think_time", "model_order")
        if key in load.model_fields_set
    ]
    if fixed:
        raise ValueError(
            f"load.replay takes its arrivals and length from the log: drop load."
            f"{', load.'.join(fixed)} (use replay.window, replay.limit, replay.speed)"
        )


def loop_of(load: LoadSpec) -> str:
    return CLOSED_LOOP if load.concurrency is not None else OPEN_LOOP


def rate_shape(load: LoadSpec) -> str | None:
    """constant | ramp | stages for open loop; None for closed loop (there is no rate) and for a
    replay (its rate is the log's)."""
    if load.concurrency is not None or load.replay is not None:
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
        if "concurrency" not in given:  # a user's think time goes with the closed loop
            load.pop("think_time", None)
    if given.get("arrival") not in (None, "gamma"):
        load.pop("cv", None)


def target_rps(load: LoadSpec) -> float | None:
    """The mean target rate over the measured part; None in closed loop. A replay's is the
    mean rate of its plan, which planning sets as load.rate (loadgen/replay/setup.py)."""
    if load.concurrency is not None:
        return None
    if load.ramp is not None:
        return (load.ramp.start + load.ramp.to) / 2
    if load.stages is not None:
        total_s = sum(s.duration for s in load.stages)
        return sum(s.rate * s.duration for s in load.stages) / total_s
    return load.rate


# The keys of `load:` that belong to one loop only; describe() leaves out the other loop's.
_OPEN_ONLY = ("rate", "arrival", "cv", "ramp", "stages")
_CLOSED_ONLY = ("concurrency", "think_time")


def describe(load: LoadSpec) -> LoadInfo:
    """report.run.load: the load model that ran, with that model's own keys only (a closed
    loop has no rate or arrival; an open loop no users)."""
    closed = load.concurrency is not None
    replayed = load.replay is not None
    dumped = load.model_dump(mode="json", by_alias=True)
    # A replay's options and what it read are report.replay's (docs/replay.md).
    left_out = (
        (*_OPEN_ONLY, *_CLOSED_ONLY) if replayed else _OPEN_ONLY if closed else _CLOSED_ONLY
    ) + ("replay",)
    described: dict[str, Any] = {
        "loop": loop_of(load),
        **({} if closed or replayed else {"rate_shape": rate_shape(load)}),
        **{key: value for key, value in dumped.items() if key not in left_out},
    }
    if replayed:
        described["note"] = (
            "replay: each request at the instant of a logged call (open loop), with its model "
            "and token counts; report.replay compares the replay with its source"
        )
    if closed:
        described["note"] = (
            "closed loop: each user sends its next request when the previous one ends (after "
            "think_time), so the rate is an outcome, not a target; schedule lag and response "
            "time cannot show coordinated omission here"
        )
    # The load model's own dump: should its fields and LoadInfo's part, a real run's report
    # fails the schema (tests/unit/report/test_report_schema.py).
    return cast(LoadInfo, described)
