"""How many workers a run gets, and which runs cannot be split among workers."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING

from loadgen.core.errors import ConfigError

if TYPE_CHECKING:  # annotations only: `loadgen run --help` reads RPS_PER_WORKER, not pydantic
    from loadgen.config.scenario import Scenario

# How many req/s one worker process takes on: docs/scaling.md ("Worker processes") gives
# the measured CPU per request behind it.
RPS_PER_WORKER = 200.0


def default_workers(rate: float, cpus: int | None = None) -> int:
    """As many workers as the rate needs at RPS_PER_WORKER each, up to the cores."""
    cores = cpus or os.cpu_count() or 1
    return max(1, min(cores, math.ceil(rate / RPS_PER_WORKER)))


def workers_for(scenario: Scenario, cpus: int | None = None) -> int:
    """`--workers` left out: default_workers, or 1 where the run cannot be split; never more
    than the in-flight cap and the pool can be split among (one each at least)."""
    if _unsplittable(scenario):
        return 1
    return min(default_workers(scenario.load.rate, cpus), *_split_limits(scenario).values())


def _split_limits(scenario: Scenario) -> dict[str, int]:
    """The limits split among the workers (loadgen/scale/share.py), by their scenario keys."""
    limits = {"load.max_in_flight": scenario.load.max_in_flight}
    if scenario.target.max_connections is not None:
        limits["target.max_connections"] = scenario.target.max_connections
    return limits


def _unsplittable(scenario: Scenario) -> list[str]:
    problems = []
    if scenario.load.model_order == "sequential" and len(scenario.models) > 1:
        problems.append(
            "--workers with load.model_order: sequential is not supported; "
            "use model_order: shared or --workers 1"
        )
    if scenario.compare_streaming:
        problems.append("--workers with compare_streaming is not supported; use --workers 1")
    if scenario.load.concurrency is not None:
        problems.append(
            "--workers with a closed loop (load.concurrency) is not supported; use --workers 1"
        )
    return problems


def check_workers(scenario: Scenario, workers: int, cores: int | None = None) -> None:
    """Refuse a worker count or a scenario that cannot be split (cores: default this machine's)."""
    problems = []
    cores = cores or os.cpu_count() or 1
    if workers < 1:
        problems.append(f"--workers {workers}: give 1 or more")
    elif workers > 4 * cores:
        problems.append(f"--workers {workers}: there are {cores} cores; use at most them")
    if workers > 1:
        problems.extend(_unsplittable(scenario))
        # Split among the workers, each needs one at least: more workers would raise the limit.
        for key, limit in _split_limits(scenario).items():
            if workers > limit:
                problems.append(
                    f"--workers {workers}: {key} is {limit}, split among the workers and each "
                    f"needs 1 at least; use at most --workers {limit}, or raise {key}"
                )
    if problems:
        raise ConfigError(problems, str(scenario.base_dir))
