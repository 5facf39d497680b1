"""The arrivals an open-loop `load:` gives: its target rate over time and the offsets of its
requests from the phase start (loadgen/config/load_models.py says which load model a scenario
asks for)."""

from __future__ import annotations

from collections.abc import Iterator

from loadgen.config.load_models import LoadSpec
from loadgen.plan.schedule import (
    RateProfile,
    Segment,
    arrival_offsets_ns,
    shaped_offsets_ns,
)


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
