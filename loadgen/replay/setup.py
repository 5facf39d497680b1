"""A replay made ready to run: its sources read, its calls selected and planned, its prompts
made ahead, and the scenario given the replay's models (loadgen/run/api.py calls this before
anything else of the run, so that every later check sees the models that will be sent to)."""

from __future__ import annotations

from collections.abc import Callable

from loadgen.config.replay_spec import ReplaySpec
from loadgen.config.scenario import EVERY_REPLAYED_MODEL, ModelSpec, Scenario
from loadgen.core.errors import ConfigError
from loadgen.replay.planning import (
    ReplayPrompts,
    ReplayRequest,
    plan_requests,
    prompts_ahead,
)
from loadgen.replay.read_result import ReadResult
from loadgen.replay.reading import read_sources
from loadgen.replay.replay_plan import ReplayPlan
from loadgen.replay.selection import select


async def load_replay(
    scenario: Scenario, seed: int, has_native_body: Callable[[str], bool]
) -> ReplayPlan:
    """Read, select and plan `scenario.load.replay`. ConfigError (exit 2) when nothing in the
    sources can be replayed, with what was read and skipped; PreflightError when an S3
    prefix cannot be listed."""
    spec = scenario.load.replay
    assert spec is not None
    read = await read_sources(spec.source, scenario.base_dir, spec.s3)
    listed = {model.id for model in scenario.models}
    models = None if EVERY_REPLAYED_MODEL in listed else listed
    selection = select(read.records, spec, seed, models, read.skips)
    if not selection.arrivals:
        raise ConfigError([_nothing_to_replay(spec, read)])
    requests = plan_requests(selection, spec.speed, scenario.target.api, spec.api, has_native_body)
    prompts = ReplayPrompts(seed)
    ready = prompts_ahead(requests, prompts)
    return ReplayPlan(
        scenario=_replay_scenario(scenario, requests),
        spec=spec,
        seed=seed,
        read=read,
        selection=selection,
        requests=requests,
        prompts=prompts,
        ready=ready,
    )


def _replay_scenario(scenario: Scenario, requests: list[ReplayRequest]) -> Scenario:
    """The scenario with the replay's models (each with the largest max_tokens it asks: a
    failed request's quota reservation counts that) and its mean rate as load.rate."""
    largest: dict[str, int] = {}
    for request in requests:
        model, asked = request.call.model, max(1, request.call.record.output_tokens)
        largest[model] = max(largest.get(model, 1), asked)
    listed = {model.id: model for model in scenario.models}
    models = [
        (listed[model] if model in listed else ModelSpec(id=model)).model_copy(
            update={"max_tokens": asked}
        )
        for model, asked in largest.items()
    ]
    # Arrivals per second between the first and the last, as the report's rates count them.
    span_s = (requests[-1].offset_ns - requests[0].offset_ns) / 1e9
    rate = round((len(requests) - 1) / span_s if span_s > 0 else float(len(requests)), 3)
    load = scenario.load.model_copy(update={"rate": rate})
    return scenario.model_copy(update={"models": models, "load": load})


def _nothing_to_replay(spec: ReplaySpec, read: ReadResult) -> str:
    skipped = {**read.skips.records, **{f"file {k}": v for k, v in read.skips.files.items()}}
    counts = ", ".join(f"{reason} {count}" for reason, count in sorted(skipped.items()))
    named = "; ".join(
        f"{example.where}: {example.reason}" + (f" ({example.detail})" if example.detail else "")
        for example in read.skips.examples[:3]
    )
    return (
        f"replay: nothing to replay in {', '.join(spec.source)}: {read.files} files read, "
        f"{len(read.records)} records parsed"
        + (f"; skipped: {counts}" if counts else "")
        + (f"; e.g. {named}" if named else "")
        + " (docs/replay.md, 'What is skipped')"
    )
