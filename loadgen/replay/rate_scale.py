"""`replay.rate_scale`: more or fewer arrivals than the log had, with its shape kept.

Below 1, each call is kept with that probability (seeded thinning: a Poisson stretch stays
Poisson, a burst stays a burst at the lower rate). Above 1, each call is sent floor(scale)
times, and once more with probability scale - floor(scale); every copy past the first is moved
by a seeded jitter, uniform within half a second of the original either way, so that copies
do not arrive as pairs at the same instant (docs/replay.md)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
JITTER_US = 500_000  # a copy lands within ±0.5 s (log time) of its original


@dataclass(frozen=True, slots=True)
class Scaled(Generic[T]):
    arrivals: list[tuple[int, T]]
    thinned: int  # calls not sent (scale below 1)
    added: int  # copies sent beyond the log's calls (scale above 1)


def scale_arrivals(arrivals: list[tuple[int, T]], scale: float, seed: int) -> Scaled[T]:
    """`arrivals` as (instant µs, item), in time order; the scaled arrivals, in time order
    (a copy is never before the first arrival)."""
    if scale == 1:
        return Scaled(list(arrivals), 0, 0)
    rng = random.Random(f"replay-rate-scale:{seed}")
    if scale < 1:
        kept = [arrival for arrival in arrivals if rng.random() < scale]
        return Scaled(kept, len(arrivals) - len(kept), 0)
    whole = math.floor(scale)
    extra = scale - whole
    first = arrivals[0][0] if arrivals else 0
    out: list[tuple[int, T]] = []
    for instant, item in arrivals:
        copies = whole + (1 if rng.random() < extra else 0)
        out.append((instant, item))
        for _ in range(copies - 1):
            moved = instant + round(rng.uniform(-JITTER_US, JITTER_US))
            out.append((max(first, moved), item))
    out.sort(key=lambda arrival: arrival[0])
    return Scaled(out, 0, len(out) - len(arrivals))
