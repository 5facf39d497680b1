"""Arrival schedules: when each request should leave, as offsets from the run's start.

Schedules are pure: the offsets depend only on the arrival kind, the rate and the seed, so
tests check rate and spacing without sleeping, and the runner sleeps to absolute instants
(t0 + offset) rather than chaining relative sleeps that would let lateness accumulate.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

Arrival = Literal["constant", "poisson"]
ShapedArrival = Literal["constant", "poisson", "gamma"]
_BLOCK = 4096  # gaps drawn per numpy call: cheap per request, bounded memory


def arrival_offsets_ns(arrival: Arrival, rate: float, seed: int) -> Iterator[int]:
    """Endless offsets in nanoseconds from t0; the first request leaves at 0."""
    if rate <= 0:
        raise ValueError(f"rate must be > 0, got {rate}")
    if arrival == "constant":
        return _constant(rate)
    if arrival == "poisson":
        return _poisson(rate, seed)
    raise ValueError(f"unknown arrival {arrival!r}; use constant or poisson")


def _constant(rate: float) -> Iterator[int]:
    # Each offset is computed from its index, never by adding gaps, so no rounding drift.
    period = 1e9 / rate
    index = 0
    while True:
        yield round(index * period)
        index += 1


def _poisson(rate: float, seed: int) -> Iterator[int]:
    # One generator for the whole run: gaps are independent exponentials with mean 1/rate.
    rng = np.random.default_rng(seed)
    elapsed = 0.0
    yield 0
    while True:
        gaps = rng.exponential(1e9 / rate, size=_BLOCK)
        for instant in np.cumsum(gaps) + elapsed:
            yield round(float(instant))
        elapsed += float(gaps.sum())


class WeightedRoundRobin:
    """Spreads requests over models in proportion to their weights, deterministically.

    Smooth weighted round robin (as nginx does): over any window each model's share is within
    one request of its weight's share, and there is no randomness to seed.
    """

    def __init__(self, names: Sequence[str], weights: Sequence[float]) -> None:
        if len(names) != len(weights) or not names:
            raise ValueError("need one weight per name, and at least one name")
        self._names = list(names)
        self._weights = list(weights)
        self._total = float(sum(weights))
        self._current = [0.0] * len(names)

    def next(self) -> str:
        for i, weight in enumerate(self._weights):
            self._current[i] += weight
        best = max(range(len(self._current)), key=self._current.__getitem__)
        self._current[best] -= self._total
        return self._names[best]


# --- Shaped load: a rate that changes over time, and bursty gaps -----------------------------
#
# Every load model below is one idea: draw arrival instants of a unit-rate process in
# "operational time" (expected arrivals so far), then map each to real time through the inverse
# of the cumulative rate, Λ(t) = ∫ rate. A unit-rate Poisson process mapped this way is exactly a
# Poisson process of the given rate(t) (the time-rescaling theorem); evenly spaced points give a
# constant-gap schedule that follows the rate; gamma gaps give a renewal process with the same
# mean rate and a chosen coefficient of variation.


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of time whose rate goes linearly from start_rate to end_rate (req/s)."""

    duration_s: float | None  # None: endless (the last segment of a count-limited run)
    start_rate: float
    end_rate: float

    def mass(self) -> float:
        """Expected arrivals over the segment (inf when endless)."""
        if self.duration_s is None:
            return math.inf
        return (self.start_rate + self.end_rate) / 2 * self.duration_s

    def time_for(self, mass: float) -> float:
        """Seconds into the segment at which `mass` expected arrivals have accumulated."""
        r0 = self.start_rate
        if self.duration_s is None or self.end_rate == r0:
            return mass / r0
        slope = (self.end_rate - r0) / self.duration_s
        # Solves r0·τ + slope·τ²/2 = mass in the form that stays exact when slope → 0 or r0 = 0.
        return 2 * mass / (r0 + math.sqrt(max(r0 * r0 + 2 * slope * mass, 0.0)))


class RateProfile:
    """The target rate over time as consecutive linear segments; pure and reusable."""

    def __init__(self, segments: Sequence[Segment]) -> None:
        if not segments:
            raise ValueError("a rate profile needs at least one segment")
        for segment in segments:
            if segment.start_rate < 0 or segment.end_rate < 0:
                raise ValueError("rates must be >= 0")
            if segment.duration_s is None and segment is not segments[-1]:
                raise ValueError("only the last segment may be endless")
            if segment.duration_s is None and segment.start_rate <= 0:
                raise ValueError("an endless segment needs a rate > 0")
        if sum(s.mass() for s in segments) <= 0:
            raise ValueError("the rate is 0 throughout: nothing would be sent")
        self.segments = tuple(segments)

    def rate_at(self, t_s: float) -> float:
        start = 0.0
        for segment in self.segments:
            if segment.duration_s is None or t_s < start + segment.duration_s:
                if segment.duration_s is None or segment.duration_s == 0:
                    return segment.start_rate
                share = (t_s - start) / segment.duration_s
                return segment.start_rate + (segment.end_rate - segment.start_rate) * share
            start += segment.duration_s
        return self.segments[-1].end_rate

    def expected(self, t0_s: float, t1_s: float) -> float:
        """Expected arrivals between two instants (for tests and reports)."""
        return self._cumulative(t1_s) - self._cumulative(t0_s)

    def _cumulative(self, t_s: float) -> float:
        total, start = 0.0, 0.0
        for segment in self.segments:
            end = math.inf if segment.duration_s is None else start + segment.duration_s
            inside = min(t_s, end) - start
            if inside <= 0:
                break
            length = segment.duration_s or inside
            r_end = segment.start_rate + (segment.end_rate - segment.start_rate) * inside / length
            total += (segment.start_rate + r_end) / 2 * inside
            start = end
        return total

    def times_s(self, masses: Iterator[float]) -> Iterator[float]:
        """Real instants for increasing operational times; stops at the profile's end."""
        index, segment_start_s, mass_before = 0, 0.0, 0.0
        segments = self.segments
        for mass in masses:
            while mass - mass_before >= segments[index].mass():
                if index == len(segments) - 1:
                    return
                mass_before += segments[index].mass()
                segment_start_s += segments[index].duration_s or 0.0
                index += 1
            yield segment_start_s + segments[index].time_for(mass - mass_before)


def shaped_offsets_ns(
    profile: RateProfile, arrival: ShapedArrival, seed: int, cv: float = 1.0
) -> Iterator[int]:
    """Offsets (ns from t0) of requests following `profile`, with gaps of the arrival kind.

    `cv` is the coefficient of variation of gamma gaps (shape 1/cv²): 1 is Poisson, above 1
    bursty, below 1 smoother. It is ignored by the other kinds.
    """
    for seconds in profile.times_s(_unit_process(arrival, seed, cv)):
        yield round(seconds * 1e9)


def _unit_process(arrival: ShapedArrival, seed: int, cv: float) -> Iterator[float]:
    """Arrival instants of a rate-1 process in operational time, the first at 0."""
    if arrival == "constant":
        yield from itertools.count()
        return
    if arrival == "poisson":
        yield from _unit_renewal(lambda rng: rng.exponential(1.0, size=_BLOCK), seed)
        return
    if arrival == "gamma":
        if cv <= 0:
            raise ValueError(f"cv must be > 0, got {cv}")
        shape = 1 / (cv * cv)
        yield from _unit_renewal(lambda rng: rng.gamma(shape, 1 / shape, size=_BLOCK), seed)
        return
    raise ValueError(f"unknown arrival {arrival!r}; use constant, poisson or gamma")


def _unit_renewal(draw: Callable[[np.random.Generator], np.ndarray], seed: int) -> Iterator[float]:
    rng = np.random.default_rng(seed)
    elapsed = 0.0
    yield 0.0
    while True:
        gaps = draw(rng)
        yield from (float(x) for x in np.cumsum(gaps) + elapsed)
        elapsed += float(gaps.sum())


def gamma_offsets_ns(rate: float, cv: float, seed: int) -> Iterator[int]:
    """Endless offsets with gamma gaps of mean 1/rate and coefficient of variation cv."""
    return shaped_offsets_ns(RateProfile([Segment(None, rate, rate)]), "gamma", seed, cv)
