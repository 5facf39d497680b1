"""The measured part of a run: its phases sent on schedule, each sample priced, guarded,
recorded and passed to the sinks, and what was in flight drained at the end or at a stop."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from loadgen.config.apis import apis_of_run
from loadgen.config.quota_spec import RunQuotas
from loadgen.config.scenario import Scenario, TargetSpec
from loadgen.core.clock import Clock
from loadgen.core.redact import redact_text
from loadgen.core.run_id import new_run_id
from loadgen.core.sample import ErrorClass, LineFormat, Sample
from loadgen.cost.accounting import BudgetGuard, sample_cost
from loadgen.cost.pricing import ResolvedPrice
from loadgen.cost.worst_case import worst_case_cost, worst_case_input_tokens
from loadgen.engine.backend import Backend
from loadgen.engine.guards import CircuitBreaker
from loadgen.engine.request import Request
from loadgen.engine.runner import PhaseOutcome, Runner
from loadgen.engine.stopping import ABORTED, FAILED, RunStop
from loadgen.plan.phases import api_phases, closed_loop_requests, phases, plan, worker_plan
from loadgen.plan.prompts import PromptSource
from loadgen.quality.kept_responses import KeptResponses
from loadgen.quality.scoring import rows_with_references, scoring_wanted
from loadgen.record.quota_usage import QuotaUsage
from loadgen.record.recorder import Recorder
from loadgen.record.token_accuracy import TokenAccuracy
from loadgen.replay.replay_plan import ReplayPlan
from loadgen.run.options import RunOptions
from loadgen.run.progress import LiveProgress
from loadgen.run.sinks import RunSinks
from loadgen.sinks.jsonl import unmeasured_fields, unused_kinds

START_LEAD_NS = 100_000_000  # the first request leaves 100 ms after setup, not during it


@dataclass
class Measured:
    """What the measured part leaves for the report."""

    recorder: Recorder
    sinks: RunSinks
    outcomes: list[PhaseOutcome]
    stop: RunStop
    budget: BudgetGuard | None
    responses: KeptResponses | None  # the texts to score now; None: no scoring
    run_id: str  # on every samples.jsonl line, and report.json's run.run_id
    started_at: str
    wall_s: float
    cpu_percent: float
    failure: Exception | None  # a bug that stopped the run: raised once the report is written
    # Requested against actual tokens of a synthetic dataset's prompts; None for rows.
    token_accuracy: TokenAccuracy | None = None


async def measure(
    scenario: Scenario,
    options: RunOptions,
    clock: Clock,
    backend: Backend,
    prompts: PromptSource,
    seed: int,
    out_dir: Path,
    target: TargetSpec,
    prices: dict[str, ResolvedPrice | None],
    stop: RunStop,
    quotas: RunQuotas | None = None,
    log_replay: ReplayPlan | None = None,
) -> Measured:
    """Send the phases and record what comes back. `stop` is the run's: a stop requested
    before (during preflight) sends nothing; one during load drains what is in flight.
    `quotas`: the Bedrock quotas each model's use is measured against (none: use only).
    `log_replay`: a replay's plan (load.replay), sent as the one open-loop phase."""
    apis = apis_of_run(scenario.target.api, scenario.compare_streaming)
    recorder = Recorder(
        compared_api=apis[1] if len(apis) > 1 else None,
        # No request outlives timeouts.total: its seconds can be frozen after that (recorder.py).
        freeze_after_s=math.ceil(scenario.timeouts.total) + 60,
        quota=quota_usage(scenario, quotas or RunQuotas()),
        exclude_from_latency=frozenset(scenario.outcomes.exclude_from_latency),
    )
    for model in scenario.models:
        recorder.ensure_model(model.id)

    def output_failed(reason: str) -> None:
        stop.request(FAILED, f"output: {reason}")

    run_id = options.run_id or new_run_id()
    # The wall-clock t0 is set once t0 is known, before the first sample.
    # Each once: a field can be both unmeasured and unused (first_reasoning_us).
    omitted = tuple(dict.fromkeys(unmeasured_fields(apis) + unused_kinds(scenario)))
    line_format = LineFormat(run_id, 0, omitted, options.keep_text)
    sinks = RunSinks(
        scenario,
        target,
        options.cloudwatch_outputs,
        options.quiet,
        out_dir / "samples.jsonl",
        on_failure=output_failed,
        line_format=line_format,
    )
    breaker = CircuitBreaker(scenario.circuit_breaker)
    budget = BudgetGuard(scenario.cost.max_usd) if scenario.cost.max_usd else None

    def admit(request: Request) -> bool:
        """Reserve the request's worst-case cost; refuse, and stop the run, past the budget."""
        assert budget is not None
        price = prices[request.model]
        assert price is not None  # resolve_prices refuses a budget without every price
        worst = worst_case_cost(price, worst_case_input_tokens(request.prompt), request.max_tokens)
        if budget.try_reserve(request.request_id, worst):
            return True
        stop.request(
            ABORTED,
            f"budget: ${budget.spent_usd:.4f} spent and ${budget.in_flight_usd:.4f} in flight; "
            f"the next request could cost up to ${worst:.4f}, past the budget of "
            f"${budget.max_usd:g} (--max-cost)",
        )
        return False

    failures: list[Exception] = []  # bugs met while booking samples: raised after the report

    def on_sample(sample: Sample) -> None:
        # Runs inside a request's task: an exception would vanish there while the run kept
        # sending, so a bug stops the run instead, and surfaces once the report is written.
        try:
            book(sample)
        except Exception as exc:
            failures.append(exc)
            stop.request(ABORTED, redact_text(f"internal error: {type(exc).__name__}: {exc}")[:300])

    def book(sample: Sample) -> None:
        try:
            cost = sample_cost(prices.get(sample.model), sample)
        except ValueError:  # usage the price arithmetic rejects (negative counts): unknown
            cost = None
        sample = replace(sample, cost_usd=cost)
        if budget is not None and sample.error is not ErrorClass.DROPPED:
            budget.settle(sample.request_id, sample.cost_usd)
        recorder.add(sample)
        sinks.add(sample)
        if token_accuracy is not None:
            token_accuracy.add(sample)
        if responses is not None:
            responses.add(sample)
        if (reason := breaker.observe(sample)) is not None:
            stop.request(ABORTED, reason)

    requested = prompts.requested_tokens()
    token_accuracy = TokenAccuracy(requested) if requested else None
    # Response text is kept only when it will be scored (in memory) or written (--keep-text).
    rows = prompts.rows_by_id()
    responses = (
        KeptResponses(rows_with_references(rows))
        if scoring_wanted(scenario, rows.values(), options.quality)
        else None
    )
    outcomes: list[PhaseOutcome] = []
    await sinks.start()
    # t0 after every setup call: a client's first use loads its service model (hundreds of ms),
    # which inside the lead time would make the first requests late.
    # A worker waits here for the common start instant: its wall time starts after the wait.
    common_t0_ns = None if options.start_at is None else options.start_at()
    started_at = utc_now()
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    t0_ns = clock.now_ns() + START_LEAD_NS if common_t0_ns is None else common_t0_ns
    t0_unix_us = (time.time_ns() + t0_ns - clock.now_ns()) // 1000
    sinks.jsonl.line_format = replace(line_format, t0_unix_us=t0_unix_us)
    runner = Runner(
        backend,
        clock,
        on_sample,
        max_in_flight=scenario.load.max_in_flight,
        timeouts=scenario.timeouts,
        t0_ns=t0_ns,
        admit=admit if budget is not None else None,
        capture_text=responses is not None or options.keep_text,
    )
    progress = LiveProgress.start_if_wanted(
        options.display,
        options.progress_to,
        scenario,
        recorder,
        lambda: (
            sum(o.dispatched for o in outcomes),
            sum(o.dropped for o in outcomes),
            runner.in_flight,
        ),
        clock,
        t0_ns,
        len(phases(scenario)),
    )

    try:
        await _run_phases(
            runner, scenario, options, clock, prompts, seed, apis, t0_ns, stop, outcomes, log_replay
        )
    except Exception as exc:
        # A bug must not cost what was measured: stop, cancel what is in flight, write the
        # report (status aborted), then let the error surface.
        failures.insert(0, exc)
        stop.request(ABORTED, redact_text(f"internal error: {type(exc).__name__}: {exc}")[:300])
        await runner.drain(0, outcomes[-1] if outcomes else PhaseOutcome())
    finally:
        if progress is not None:
            await progress.stop()
        stop.phase = "publishing"
        # The last CloudWatch interval goes out within its own timeout; a stop cuts it short
        # (the report then says what was not published). samples.jsonl is closed either way.
        await stop.until_stopped(sinks.stop(), even_if_stopped=True)
        sinks.abandon()
    wall_s = time.perf_counter() - wall_start
    cpu_percent = 100 * (time.process_time() - cpu_start) / wall_s if wall_s else 0.0
    return Measured(
        recorder=recorder,
        sinks=sinks,
        outcomes=outcomes,
        stop=stop,
        budget=budget,
        responses=responses,
        run_id=run_id,
        started_at=started_at,
        wall_s=wall_s,
        cpu_percent=cpu_percent,
        failure=failures[0] if failures else None,
        token_accuracy=token_accuracy,
    )


async def _run_phases(
    runner: Runner,
    scenario: Scenario,
    options: RunOptions,
    clock: Clock,
    prompts: PromptSource,
    seed: int,
    apis: list[str],
    t0_ns: int,
    stop: RunStop,
    outcomes: list[PhaseOutcome],
    log_replay: ReplayPlan | None = None,
) -> None:
    """Each phase in turn, until the last or a stop; appends each phase's outcome."""
    run_phases = phases(scenario)
    first_ids: list[int] = []
    for phase_index, (api, models) in enumerate(api_phases(apis, run_phases)):
        outcome = PhaseOutcome()
        outcomes.append(outcome)
        start_ns = t0_ns if phase_index == 0 else clock.now_ns() + START_LEAD_NS
        first_ids.append(_planned_so_far(outcomes))
        # A second API replays the first one's phases: same prompts, same arrivals.
        replay = (
            first_ids[phase_index - len(run_phases)] if phase_index >= len(run_phases) else None
        )
        if stop.status is not None:
            break
        stop.phase = "load"
        if scenario.load.concurrency is None:
            phase_plan = (
                log_replay.planned(first_ids[-1])
                if log_replay is not None
                else plan(
                    scenario,
                    models,
                    prompts,
                    seed,
                    first_id=first_ids[-1],
                    api=api,
                    replay_from=replay,
                )
            )
            if options.worker is not None:
                phase_plan = worker_plan(phase_plan, scenario, options.worker, seed, first_ids[-1])
            await stop.until_stopped(runner.run_phase(phase_plan, start_ns, outcome))
        else:
            requests = closed_loop_requests(
                scenario, models, prompts, first_id=first_ids[-1], api=api, replay_from=replay
            )
            await stop.until_stopped(_run_closed(runner, scenario, requests, start_ns, outcome))
        stop.phase = "drain"
        await _drain(runner, outcome, stop, options.grace_s)
        if stop.status is not None:
            break


async def _run_closed(
    runner: Runner,
    scenario: Scenario,
    requests: Iterator[Request],
    start_ns: int,
    outcome: PhaseOutcome,
) -> None:
    """Closed loop: load.concurrency users take the phase's requests in turn from start_ns;
    warmup, the end and a count of measured requests go by each request's intended start."""
    load = scenario.load
    assert load.concurrency is not None  # the closed loop's users
    warmup_ns = round(load.warmup * 1e9)
    await runner.run_closed(
        requests,
        start_ns,
        outcome,
        users=load.concurrency,
        warmup_ns=warmup_ns,
        end_ns=None if load.duration is None else warmup_ns + round(load.duration * 1e9),
        measured_limit=load.requests,
        think_ns=round(load.think_time * 1e9),
    )


async def _drain(runner: Runner, outcome: PhaseOutcome, stop: RunStop, grace_s: float) -> None:
    """Wait for requests in flight. A stop request (even one that arrives while waiting)
    bounds the wait to the grace period; a second signal ends it at once."""
    while runner.in_flight:
        grace = None if stop.status is None else (0 if stop.hard else grace_s)
        # A stop request during an unbounded wait ends it; the loop then waits again, now
        # bounded by the grace period (none after a second signal).
        stop.current = drain = asyncio.ensure_future(runner.drain(grace, outcome))
        with contextlib.suppress(asyncio.CancelledError):
            await drain
        stop.current = None


def _planned_so_far(outcomes: list[PhaseOutcome]) -> int:
    return sum(o.ids_used for o in outcomes)  # a session reserves an id per turn


def quota_usage(scenario: Scenario, quotas: RunQuotas) -> QuotaUsage:
    """Each model's quota accounting: every request reserves the max_tokens it asks for."""
    max_tokens = {m.id: m.max_tokens or scenario.inference.max_tokens for m in scenario.models}
    return QuotaUsage(max_tokens, quotas.limits, quotas.sources)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
