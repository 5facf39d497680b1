"""Load models: which of them a scenario's `load:` asks for, and the arrivals it gives.

Open loop (the default) sends at instants fixed in advance: a constant rate, a linear ramp
(`ramp: {from, to}` over the duration) or a list of `stages` (a rate held for a duration each),
with constant, Poisson or gamma (bursty) gaps. Closed loop (`concurrency: N`) is a different
kind of test: N users each send their next request when the previous one ends, so the rate is an
outcome, not a target, and schedule lag means nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from loadgen.schedule import (
    RateProfile,
    Segment,
    arrival_offsets_ns,
    shaped_offsets_ns,
)

if TYPE_CHECKING:
    from loadgen.scenario import LoadSpec

OPEN_LOOP = "open_loop"
CLOSED_LOOP = "closed_loop"
SHAPE_KEYS = ("rate", "ramp", "stages", "concurrency")


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


def rate_profile(load: LoadSpec) -> RateProfile:
    """The open-loop target rate over time; warmup runs at the starting rate."""
    if load.stages is not None:
        segments = [Segment(s.duration, s.rate, s.rate) for s in load.stages]
    elif load.ramp is not None:
        segments = [Segment(load.duration, load.ramp.start, load.ramp.to)]
    else:
        segments = [Segment(load.duration, load.rate, load.rate)]
    if load.warmup > 0:
        first = segments[0].start_rate
        segments.insert(0, Segment(load.warmup, first, first))
    return RateProfile(segments)


def open_loop_offsets_ns(load: LoadSpec, seed: int) -> Iterator[int]:
    """Offsets from the phase start, warmup included; endless for a count-limited run."""
    if load.ramp is None and load.stages is None and load.arrival != "gamma":
        # The plain constant-rate processes, drawn exactly as before shaped load existed, so
        # a seed gives the same schedule as it always did.
        return arrival_offsets_ns(load.arrival, load.rate, seed)
    return shaped_offsets_ns(rate_profile(load), load.arrival, seed, load.cv or 1.0)


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


def describe(load: LoadSpec) -> dict[str, Any]:
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
    return described
