"""One arrival process shared out among worker processes, so that their union is the schedule
one process would have followed.

Every worker computes the whole schedule (it is a pure function of the seed) and keeps its
share, by the request's index in the phase:
- constant: request i goes to worker i mod N. Each worker sends at rate/N with a phase
  offset of k periods, and the union is evenly spaced again.
- poisson: each request goes to a worker drawn uniformly from a seeded stream that every
  worker draws identically. Independent thinning of a Poisson process with probability 1/N
  gives N independent Poisson processes of rate/N (and their union is the original one),
  so each worker's share is itself Poisson.
- gamma: the same seeded thinning. The union is still exactly the schedule; each worker's share
  is burstier than a gamma process of rate/N would be, which only the union's timing matters for.
Ramps and stages are constant-rate schedules stretched in time: round robin keeps them whole.
Request ids stay those of the single-process plan: no two workers send the same id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np

Arrival = Literal["constant", "poisson", "gamma"]
T = TypeVar("T")
_BLOCK = 4096
_SPLIT_STREAM = 0x5CA1E  # keeps the assignment stream apart from the arrival gaps' stream


@dataclass(frozen=True)
class WorkerShare:
    """Which share of the schedule a run sends: worker `index` of `count`."""

    index: int
    count: int


def worker_of_index(arrival: Arrival, workers: int, seed: int) -> Iterator[int]:
    """The worker of request 0, 1, 2, ... (endless)."""
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if arrival == "constant" or workers == 1:
        index = 0
        while True:
            yield index % workers
            index += 1
    rng = np.random.default_rng([seed, _SPLIT_STREAM])
    while True:
        yield from rng.integers(0, workers, size=_BLOCK).tolist()


def worker_share(
    items: Iterator[T],
    arrival: Arrival,
    worker: int,
    workers: int,
    seed: int,
    index_of: Callable[[T], int],
) -> Iterator[T]:
    """The items of `worker` (0-based) among `workers`; `index_of` gives an item's index in
    the phase (0, 1, 2, ... in order)."""
    if not 0 <= worker < workers:
        raise ValueError(f"worker must be in [0, {workers}), got {worker}")
    owners = worker_of_index(arrival, workers, seed)
    owner_index = -1
    owner = 0
    for item in items:
        index = index_of(item)
        while owner_index < index:  # indices only grow; skip owners of indices not planned
            owner = next(owners)
            owner_index += 1
        if owner == worker:
            yield item
