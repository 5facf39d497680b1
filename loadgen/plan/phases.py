"""What a run sends: its phases, and each phase's planned requests. Pure functions of the
scenario and the seed; the runner decides only when each planned request leaves."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from loadgen.config.scenario import Scenario
from loadgen.engine.request import Planned, Request
from loadgen.plan.arrival_split import WorkerShare, worker_share
from loadgen.plan.arrivals import open_loop_offsets_ns
from loadgen.plan.prompts import PromptSource
from loadgen.plan.request_options import request_options
from loadgen.plan.schedule import WeightedRoundRobin


def phases(scenario: Scenario) -> list[list[str]]:
    """Models that share the load run in one phase; `sequential` gives each its own."""
    ids = [m.id for m in scenario.models]
    return [[i] for i in ids] if scenario.load.model_order == "sequential" else [ids]


def api_phases(apis: list[str], phases: list[list[str]]) -> Iterator[tuple[str, list[str]]]:
    """Every phase through the first API, then (compare_streaming) every phase again through
    the second: one API at a time, so neither's latency is load from the other."""
    for api in apis:
        for models in phases:
            yield api, models


def plan(
    scenario: Scenario,
    models: list[str],
    prompts: PromptSource,
    seed: int,
    first_id: int,
    api: str | None = None,
    replay_from: int | None = None,
) -> Iterator[Planned]:
    """An open-loop phase's requests, each at its offset from the phase start and marked
    warmup when that offset is within load.warmup. `replay_from` (the first id of an earlier
    phase) repeats that phase's arrivals and prompts under new request ids."""
    origin = first_id if replay_from is None else replay_from
    load = scenario.load
    requests = _requests(scenario, models, prompts, first_id, origin, api)
    warmup_ns = round(load.warmup * 1e9)
    end_ns = None if load.duration is None else warmup_ns + round(load.duration * 1e9)
    measured = 0
    # Phases of a sequential run get different seeds, so each model sees its own arrivals.
    for offset, request in zip(open_loop_offsets_ns(load, seed + origin), requests, strict=False):
        if end_ns is not None and offset >= end_ns:
            return
        warmup = offset < warmup_ns
        if not warmup:
            if load.requests is not None and measured >= load.requests:
                return
            measured += 1
        yield Planned(offset_ns=offset, request=request, warmup=warmup)


def closed_loop_requests(
    scenario: Scenario,
    models: list[str],
    prompts: PromptSource,
    first_id: int,
    api: str | None = None,
    replay_from: int | None = None,
) -> Iterator[Request]:
    """A closed-loop phase's requests, endless and in order: the users take them in turn, and
    the runner (Runner.run_closed) decides by the clock which are warmup and when to stop."""
    origin = first_id if replay_from is None else replay_from
    return _requests(scenario, models, prompts, first_id, origin, api)


def _requests(
    scenario: Scenario,
    models: list[str],
    prompts: PromptSource,
    first_id: int,
    origin: int,
    api: str | None,
) -> Iterator[Request]:
    """Request i of the phase: the next model of the weighted round robin, prompt origin + i.
    With `conversation`, request i is the first turn of session i, which reserves the ids
    first_id + i * turns onwards, one per turn (its later turns are made by the runner)."""
    specs = {m.id: m for m in scenario.models}
    # Built once per model, not per request: every request of a model shares its options.
    options = {m: request_options(scenario, m) for m in models}
    turns = ids_per_request(scenario)
    picker = WeightedRoundRobin(models, [specs[m].weight for m in models])
    for index in itertools.count():
        spec = specs[picker.next()]
        prompt = prompts.prompt(origin + index, spec.id)
        request_id = first_id + index * turns
        session = prompts.session_script(origin + index)
        yield Request(
            request_id=request_id,
            model=spec.id,
            prompt=prompt,
            # A synthetic prompt's output count is its max_tokens (docs/scenario.md).
            max_tokens=prompt.output_tokens or spec.max_tokens or scenario.inference.max_tokens,
            temperature=(
                spec.temperature if spec.temperature is not None else scenario.inference.temperature
            ),
            top_p=scenario.inference.top_p,
            api=api,
            options=options[spec.id],
            session_id=None if session is None else request_id,
            turn=None if session is None else 1,
            session=session,
        )


def ids_per_request(scenario: Scenario) -> int:
    """Request ids each planned request takes: a session's turns, else one."""
    return 1 if scenario.conversation is None else scenario.conversation.turns


def worker_plan(
    plan: Iterator[Planned], scenario: Scenario, share: WorkerShare, seed: int, first_id: int
) -> Iterator[Planned]:
    """A worker process's share of the phase's plan (loadgen/scale/workers.py)."""

    turns = ids_per_request(scenario)

    def index_of(planned: Planned) -> int:
        return (planned.request.request_id - first_id) // turns

    return worker_share(plan, scenario.load.arrival, share.index, share.count, seed, index_of)
