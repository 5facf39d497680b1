"""One load test from scenario to report: the library call behind `loadgen run`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError
from rich.console import Console

from loadgen import __version__, cloudwatch_run
from loadgen.arrival_split import worker_share
from loadgen.backend import Backend, Request
from loadgen.backends.apis import (
    ApiRouter,
    apis_of_run,
    check_invoke_models,
    is_openai,
    make_backend,
)
from loadgen.backends.bedrock_client import EMULATOR_CREDENTIALS, BedrockClient
from loadgen.clock import Clock, MonotonicClock
from loadgen.cloudwatch_setup import CloudWatchTarget
from loadgen.console import print_summary
from loadgen.cost import BudgetGuard, sample_cost, worst_case_cost
from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.emulator.process import EmulatorStartError
from loadgen.errors import ConfigError, PreflightError
from loadgen.guards import CircuitBreaker
from loadgen.live_progress import LiveProgress
from loadgen.load_models import describe as describe_load
from loadgen.load_models import open_loop_offsets_ns
from loadgen.load_models import target_rps as load_target_rps
from loadgen.preflight import check_models
from loadgen.pricing import ResolvedPrice
from loadgen.pricing_check import describe_price, resolve_prices
from loadgen.prompts import PromptSource, estimate_input_tokens, load_rows
from loadgen.quality import report_sections, scoring_wanted
from loadgen.recorder import Recorder
from loadgen.redact import redact_url
from loadgen.report import RunInfo, build_report, write_json_atomically
from loadgen.runner import PhaseOutcome, Planned, Runner
from loadgen.sample import ErrorClass, Sample
from loadgen.scenario import Scenario, TargetSpec
from loadgen.schedule import WeightedRoundRobin
from loadgen.sinks.cloudwatch import CloudWatchSink
from loadgen.sinks.emf import EmfSink
from loadgen.sinks.jsonl import JsonlSink
from loadgen.stopping import ABORTED, INTERRUPTED, RunStop
from loadgen.thresholds import evaluate, report_section
from loadgen.verdict import build_verdict
from loadgen.workers import WorkerShare

EXIT_OK = 0
EXIT_ABORTED = 3
EXIT_INTERRUPTED = 130
EXIT_THRESHOLDS = 99  # as k6: the run finished, but a threshold of the scenario failed
EXIT_CLOUDWATCH = 5  # --require-cloudwatch, and not everything reached CloudWatch
EMULATOR_REGION = "us-east-1"
START_LEAD_NS = 100_000_000  # the first request leaves 100 ms after setup, not during it


@dataclass
class RunOptions:
    out_dir: Path | None = None
    emulate: bool = False
    # An emulator already started for several runs (a sweep's stages): use it, as --emulate
    # would use its own, instead of starting one per run.
    shared_emulator_url: str | None = None
    # A started backend several runs share (a sweep's stages): creating an SDK client costs
    # a second or two. The run neither starts nor closes it.
    shared_backend: Backend | None = None
    quiet: bool = False
    grace_s: float = 10.0  # after an interrupt, how long requests in flight may finish
    preflight: bool = True  # one cheap call per model before load
    quality: bool = True  # score responses after the run, where rows have references
    console: Console = field(default_factory=Console)
    html: bool = True  # write report.html beside report.json (--no-html: off)
    progress: bool | None = None  # live progress; None: on a terminal unless quiet
    # Set by loadgen/workers.py in a worker process: its share of the schedule and a call that
    # blocks until the common start instant (the parent's emulator: shared_emulator_url).
    worker: WorkerShare | None = None
    start_at: Callable[[], int] | None = None

    emf: str | None = None  # write EMF lines to this file ("-": stdout)
    cloudwatch_dry_run: bool = False  # print the CloudWatch calls instead of making them
    require_cloudwatch: bool = False  # exit 5 when something was not published


@dataclass
class RunResult:
    report: dict[str, Any]
    out_dir: Path
    exit_code: int


def run(scenario: Scenario, options: RunOptions | None = None) -> RunResult:
    """Run a scenario to its end (or an interrupt) and write its report. Blocks."""
    options = options or RunOptions()
    try:
        import uvloop
    except ImportError:  # pragma: no cover - Windows
        return asyncio.run(run_async(scenario, options))
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(run_async(scenario, options))


async def run_async(
    scenario: Scenario, options: RunOptions, clock: Clock | None = None
) -> RunResult:
    clock = clock or MonotonicClock()
    seed = scenario.seed if scenario.seed is not None else random.SystemRandom().randrange(2**31)
    prompts = PromptSource(scenario, load_rows(scenario), seed)
    out_dir = _prepare_out_dir(options.out_dir, scenario.name)
    with contextlib.ExitStack() as stack:
        target = scenario.target
        apis = apis_of_run(target.api, scenario.compare_streaming)
        _check_api_setup(scenario, apis, options.emulate or options.shared_emulator_url is not None)
        credentials = None
        emulator = None
        if options.emulate:
            emulator = stack.enter_context(start_emulator(scenario))
            target = _emulated_target(target, emulator.url)
            credentials = EMULATOR_CREDENTIALS
        elif options.shared_emulator_url is not None:  # a sweep's or the worker parent's
            target = _emulated_target(target, options.shared_emulator_url)
            credentials = EMULATOR_CREDENTIALS
        backend = options.shared_backend or _backend(apis, target, scenario, credentials)
        aws = (
            None if is_openai(target.api) else BedrockClient(target, scenario.timeouts, pool_size=1)
        )
        if aws is not None and credentials is None:
            await _check_aws_setup(aws, target)
        region = target.region or (aws and aws.session().region_name) or EMULATOR_REGION
        prices = resolve_prices(scenario, region)
        if options.shared_backend is None:
            await backend.start()
        try:
            if options.preflight:
                endpoint = target.endpoint_url or f"the Bedrock endpoint in {target.region}"
                await check_models(backend, [m.id for m in scenario.models], endpoint)
            _freeze_setup_objects()
            result = await _measure(
                scenario, options, clock, backend, prompts, seed, out_dir, target, prices
            )
        finally:
            gc.unfreeze()
            if options.shared_backend is None:
                await backend.close()
        if emulator is not None:
            result.report["run"]["emulator"] = await asyncio.to_thread(emulator.stats)
            write_json_atomically(out_dir / "report.json", result.report)
    html_path, html_error = None, None
    if options.html:
        # Imported here: matplotlib takes a second or two to load, which a run needs only now.
        from loadgen.html_report import save_report_html

        html_path, html_error = save_report_html(result.report, out_dir)
        if html_error is not None:
            options.console.print(
                f"[red]report.html could not be written ({html_error}); "
                f"report.json is complete[/red]",
                highlight=False,
            )
    if not options.quiet:
        print_summary(result.report, options.console)
        options.console.print(f"report: {out_dir / 'report.json'}")
        if html_path is not None:
            options.console.print(f"report: {html_path}")
    return result


async def _measure(
    scenario: Scenario,
    options: RunOptions,
    clock: Clock,
    backend: Backend,
    prompts: PromptSource,
    seed: int,
    out_dir: Path,
    target: TargetSpec,
    prices: dict[str, ResolvedPrice | None],
) -> RunResult:
    apis = apis_of_run(scenario.target.api, scenario.compare_streaming)
    recorder = Recorder(compared_api=apis[1] if len(apis) > 1 else None)
    for model in scenario.models:
        recorder.ensure_model(model.id)
    sink = JsonlSink(out_dir / "samples.jsonl")
    cloudwatch = _cloudwatch_sink(scenario, target, options)
    cloudwatch_setup = None
    emf = _emf_sink(scenario, options)

    stop = RunStop()
    breaker = CircuitBreaker(scenario.circuit_breaker)
    budget = BudgetGuard(scenario.cost.max_usd) if scenario.cost.max_usd else None

    def admit(request: Request) -> bool:
        """Reserve the request's worst-case cost; refuse, and stop the run, past the budget."""
        assert budget is not None
        price = prices[request.model]
        assert price is not None  # resolve_prices refuses a budget without every price
        worst = worst_case_cost(price, estimate_input_tokens(request.prompt), request.max_tokens)
        if budget.try_reserve(request.request_id, worst):
            return True
        stop.request(
            ABORTED,
            f"budget: ${budget.spent_usd:.4f} spent and ${budget.in_flight_usd:.4f} in flight; "
            f"the next request could cost up to ${worst:.4f}, past the budget of "
            f"${budget.max_usd:g} (--max-cost)",
        )
        return False

    def on_cancel(request: Request) -> None:
        if budget is not None:  # it may have been billed: book its whole reservation
            budget.settle(request.request_id, None)

    def on_sample(sample: Sample) -> None:
        try:
            cost = sample_cost(prices.get(sample.model), sample)
        except ValueError:  # usage the price arithmetic rejects (negative counts): unknown
            cost = None
        sample = replace(sample, cost_usd=cost)
        if budget is not None and sample.error is not ErrorClass.DROPPED:
            budget.settle(sample.request_id, sample.cost_usd)
        recorder.add(sample)
        sink.add(sample)
        if cloudwatch is not None:
            cloudwatch.add(sample)
        if emf is not None:
            emf.add(sample)
        if (reason := breaker.observe(sample)) is not None:
            stop.request(ABORTED, reason)

    # Response text is kept only when it will be scored.
    score_quality = scoring_wanted(scenario, prompts.rows_by_id().values(), options.quality)
    outcomes: list[PhaseOutcome] = []
    failure: Exception | None = None
    sink.start()
    if cloudwatch is not None:
        cloudwatch_setup = await cloudwatch_run.prepare(
            scenario, _cloudwatch_target(scenario, target), _dry_run(options), options.quiet
        )
        await cloudwatch.start()
    if emf is not None:
        await emf.start()
    # t0 after every setup call: a client's first use loads its service model (hundreds of ms),
    # which inside the lead time would make the first requests late.
    # A worker waits here for the common start instant: its wall time starts after the wait.
    common_t0_ns = None if options.start_at is None else options.start_at()
    started_at = _utc_now()
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    t0_ns = clock.now_ns() + START_LEAD_NS if common_t0_ns is None else common_t0_ns
    runner = Runner(
        backend,
        clock,
        on_sample,
        max_in_flight=scenario.load.max_in_flight,
        timeouts=scenario.timeouts,
        t0_ns=t0_ns,
        admit=admit if budget is not None else None,
        on_cancel=on_cancel,
        capture_text=score_quality,
    )
    progress = LiveProgress.start_if_wanted(
        options,
        scenario,
        recorder,
        lambda: (
            sum(o.dispatched for o in outcomes),
            sum(o.dropped for o in outcomes),
            runner.in_flight,
        ),
        clock,
        t0_ns,
        len(_phases(scenario)),
    )

    try:
        with stop.on_signals():
            phases = _phases(scenario)
            first_ids: list[int] = []
            for phase_index, (api, models) in enumerate(_api_phases(apis, phases)):
                outcome = PhaseOutcome()
                outcomes.append(outcome)
                start_ns = t0_ns if phase_index == 0 else clock.now_ns() + START_LEAD_NS
                first_ids.append(_planned_so_far(outcomes))
                # A second API replays the first one's phases: same prompts, same arrivals.
                replay = (
                    first_ids[phase_index - len(phases)] if phase_index >= len(phases) else None
                )
                plan = _plan(
                    scenario,
                    models,
                    prompts,
                    seed,
                    first_id=first_ids[-1],
                    api=api,
                    replay_from=replay,
                )
                if options.worker is not None:
                    plan = _worker_plan(plan, scenario, options.worker, seed, first_ids[-1])
                if stop.status is not None:
                    break
                stop.current = asyncio.create_task(
                    _run_phase(runner, scenario, plan, start_ns, outcome)
                )
                with contextlib.suppress(asyncio.CancelledError):
                    await stop.current
                await _drain(runner, outcome, stop, options.grace_s)
                if stop.status is not None:
                    break
    except Exception as exc:
        # A bug must not cost what was measured: stop, cancel what is in flight, write the
        # report (status aborted), then let the error surface.
        failure = exc
        stop.request(ABORTED, f"internal error: {type(exc).__name__}: {exc}"[:300])
        await runner.drain(0, outcomes[-1] if outcomes else PhaseOutcome())
    finally:
        if progress is not None:
            await progress.stop()
        sink.stop()
        if cloudwatch is not None:
            await cloudwatch.stop()  # publishes the last interval, within its own timeout
        if emf is not None:
            await emf.stop()
    wall_s = time.perf_counter() - wall_start
    cpu_percent = 100 * (time.process_time() - cpu_start) / wall_s if wall_s else 0.0
    status = stop.status or "completed"
    scheduled_rps, achieved_rps = _rates(outcomes)
    info = RunInfo(
        scenario=scenario.name,
        started_at=started_at,
        ended_at=_utc_now(),
        status=status,
        status_reason=stop.reason,
        target=_describe_target(target, options.emulate or options.shared_emulator_url is not None),
        load=describe_load(scenario.load),
        seed=seed,
        loadgen_version=__version__,
        target_rps=load_target_rps(scenario.load),
        scheduled_rps=scheduled_rps if scenario.load.concurrency is None else None,
        achieved_rps=achieved_rps,
        scheduled=sum(o.scheduled for o in outcomes),
        cancelled=sum(o.cancelled for o in outcomes),
        cpu_percent=cpu_percent,
        wall_s=wall_s,
        cost={
            "budget_usd": scenario.cost.max_usd,
            "spent_usd": None if budget is None else round(budget.spent_usd, 9),
            "project_rps": scenario.cost.project_rps,
            "prices": {model: describe_price(price) for model, price in prices.items()},
        },
        cloudwatch=None
        if cloudwatch is None
        else cloudwatch_run.report_section(
            cloudwatch, cloudwatch_setup or cloudwatch_run.Setup(), options.cloudwatch_dry_run
        ),
        notes=[
            f"{model} has no price (allow_unpriced): its cost fields are null"
            for model, price in prices.items()
            if price is None
        ],
        compared_api=recorder.compared_api,
    )
    report = build_report(info, recorder)
    # After the run, off the event loop: scoring must not delay what is being timed.
    quality: dict[str, Any] = {}
    if score_quality:
        try:
            quality = await asyncio.to_thread(
                report_sections, scenario, prompts.rows_by_id(), sink.path
            )
        except Exception as exc:  # what was measured must still be reported
            report["run"]["notes"].append(f"quality scoring failed: {type(exc).__name__}: {exc}")
    for model, section in report["models"].items():
        section["quality"] = quality.get(model)
    report["thresholds"] = _thresholds(scenario, report)
    report["verdict"] = build_verdict(
        [spec.parsed() for spec in scenario.requirements], report["models"]
    )
    write_json_atomically(out_dir / "report.json", report)
    if failure is not None:
        raise failure
    exit_code = {INTERRUPTED: EXIT_INTERRUPTED, ABORTED: EXIT_ABORTED}.get(status, EXIT_OK)
    if exit_code == EXIT_OK and report["thresholds"] and not report["thresholds"]["passed"]:
        exit_code = EXIT_THRESHOLDS
    published = report["run"].get("cloudwatch")
    if options.require_cloudwatch and published and not published["complete"]:
        # Before 99: monitoring that was required and is missing is a setup failure, which
        # outranks the verdict (that is in the report all the same).
        exit_code = EXIT_CLOUDWATCH if exit_code in (EXIT_OK, EXIT_THRESHOLDS) else exit_code
    return RunResult(report=report, out_dir=out_dir, exit_code=exit_code)


async def _run_phase(
    runner: Runner,
    scenario: Scenario,
    plan: Iterator[Planned],
    start_ns: int,
    outcome: PhaseOutcome,
) -> None:
    """Open loop sends the plan at its instants; closed loop takes its requests in turn."""
    load = scenario.load
    if load.concurrency is None:
        await runner.run_phase(plan, start_ns, outcome)
        return
    warmup_ns = round(load.warmup * 1e9)
    await runner.run_closed(
        (planned.request for planned in plan),
        start_ns,
        outcome,
        users=load.concurrency,
        warmup_ns=warmup_ns,
        end_ns=None if load.duration is None else warmup_ns + round(load.duration * 1e9),
        measured_limit=load.requests,
    )


def _thresholds(scenario: Scenario, report: dict[str, Any]) -> dict[str, Any] | None:
    """The scenario's thresholds against the report; None when the scenario sets none."""
    if not scenario.thresholds:
        return None
    checks = [spec.parsed() for spec in scenario.thresholds]
    return report_section(evaluate(checks, report["models"]))


async def _drain(runner: Runner, outcome: PhaseOutcome, stop: RunStop, grace_s: float) -> None:
    """Wait for requests in flight. A stop request (even one that arrives while waiting)
    bounds the wait to the grace period; a second signal ends it at once."""
    while runner.in_flight:
        grace = None if stop.status is None else (0 if stop.hard else grace_s)
        stop.current = asyncio.create_task(runner.drain(grace, outcome))
        with contextlib.suppress(asyncio.CancelledError):
            await stop.current


def _cloudwatch_target(scenario: Scenario, target: TargetSpec) -> CloudWatchTarget:
    # No region given: the AWS configuration's (AWS_REGION, the profile's), as for Bedrock.
    return cloudwatch_run.cloudwatch_target(scenario.cloudwatch, target.region, target.profile)


def _dry_run(options: RunOptions) -> TextIO | None:
    return sys.stdout if options.cloudwatch_dry_run else None


def _cloudwatch_sink(
    scenario: Scenario, target: TargetSpec, options: RunOptions
) -> CloudWatchSink | None:
    if not scenario.cloudwatch.enabled:
        return None
    return cloudwatch_run.make_sink(
        scenario, _cloudwatch_target(scenario, target), _dry_run(options)
    )


def _emf_sink(scenario: Scenario, options: RunOptions) -> EmfSink | None:
    if options.emf is None:
        return None
    spec = scenario.cloudwatch
    return EmfSink(
        options.emf,
        scenario=scenario.name,
        namespace=spec.namespace,
        dimensions=spec.dimensions,
        interval_s=spec.interval,
        storage_resolution=spec.storage_resolution,
    )


def _freeze_setup_objects() -> None:
    """Keep the collector off what setup left behind.

    The SDK loads tens of thousands of long-lived objects (service models, endpoint rules,
    parsers). A full collection walks all of them again and pauses the event loop for about
    10 ms: a latency spike that belongs to the generator, not to the endpoint. Frozen objects
    are skipped; what the run itself allocates is still collected.
    """
    gc.collect()
    gc.freeze()


def _phases(scenario: Scenario) -> list[list[str]]:
    """Models that share the load run in one phase; `sequential` gives each its own."""
    ids = [m.id for m in scenario.models]
    return [[i] for i in ids] if scenario.load.model_order == "sequential" else [ids]


def _plan(
    scenario: Scenario,
    models: list[str],
    prompts: PromptSource,
    seed: int,
    first_id: int,
    api: str | None = None,
    replay_from: int | None = None,
) -> Iterator[Planned]:
    """The phase's requests. `replay_from` (the first id of an earlier phase) repeats that
    phase's arrivals and prompts under new request ids."""
    origin = first_id if replay_from is None else replay_from
    load = scenario.load
    specs = {m.id: m for m in scenario.models}
    picker = WeightedRoundRobin(models, [specs[m].weight for m in models])
    warmup_ns = round(load.warmup * 1e9)
    end_ns = None if load.duration is None else warmup_ns + round(load.duration * 1e9)
    measured = 0
    # Phases of a sequential run get different seeds, so each model sees its own arrivals.
    offsets = (
        # Closed loop: the users take requests in turn and the clock decides warmup and end.
        itertools.repeat(0)
        if load.concurrency is not None
        else open_loop_offsets_ns(load, seed + origin)
    )
    for index, offset in enumerate(offsets):
        if end_ns is not None and offset >= end_ns:
            return
        warmup = offset < warmup_ns
        if not warmup:
            if load.requests is not None and measured >= load.requests:
                return
            measured += 1
        model = picker.next()
        spec = specs[model]
        request_id = first_id + index
        yield Planned(
            offset_ns=offset,
            request=Request(
                request_id=request_id,
                model=model,
                prompt=prompts.prompt(origin + index),
                max_tokens=spec.max_tokens or scenario.inference.max_tokens,
                temperature=(
                    spec.temperature
                    if spec.temperature is not None
                    else scenario.inference.temperature
                ),
                top_p=scenario.inference.top_p,
                api=api,
            ),
            warmup=warmup,
        )


def _worker_plan(
    plan: Iterator[Planned], scenario: Scenario, share: WorkerShare, seed: int, first_id: int
) -> Iterator[Planned]:
    """A worker process's share of the phase's plan (loadgen/workers.py)."""

    def index_of(planned: Planned) -> int:
        return planned.request.request_id - first_id

    return worker_share(plan, scenario.load.arrival, share.index, share.count, seed, index_of)


def _planned_so_far(outcomes: list[PhaseOutcome]) -> int:
    return sum(o.scheduled for o in outcomes)


def _rates(outcomes: list[PhaseOutcome]) -> tuple[float | None, float | None]:
    """Scheduled and achieved sends per second, over the phases' own spans."""
    gaps = sum(max(o.dispatched + o.dropped - 1, 0) for o in outcomes)
    scheduled_span = sum(o.last_offset_ns - o.first_offset_ns for o in outcomes if o.scheduled)
    dispatched_gaps = sum(max(o.dispatched - 1, 0) for o in outcomes)
    dispatch_span = sum(o.last_dispatch_ns - o.first_dispatch_ns for o in outcomes if o.dispatched)
    scheduled = gaps / (scheduled_span / 1e9) if scheduled_span > 0 else None
    achieved = dispatched_gaps / (dispatch_span / 1e9) if dispatch_span > 0 else None
    return scheduled, achieved


def backend_for(scenario: Scenario, emulator_url: str | None) -> Backend:
    """A backend as run_async makes one, for runs that share it (not started)."""
    target = scenario.target
    credentials = None
    if emulator_url is not None:
        target = _emulated_target(target, emulator_url)
        credentials = EMULATOR_CREDENTIALS
    apis = apis_of_run(target.api, scenario.compare_streaming)
    return _backend(apis, target, scenario, credentials)


def _emulated_target(target: TargetSpec, emulator_url: str) -> TargetSpec:
    # The emulator serves OpenAI's API under /v1, the base URL OpenAI's SDK takes.
    url = f"{emulator_url}/v1" if is_openai(target.api) else emulator_url
    return target.model_copy(
        update={"endpoint_url": url, "region": target.region or EMULATOR_REGION}
    )


def start_emulator(scenario: Scenario) -> EmulatorProcess:
    """The built-in emulator with the scenario's profiles, started (a context manager)."""
    process = EmulatorProcess(_emulator_config(scenario))
    try:
        process.start()
    except EmulatorStartError as exc:
        raise PreflightError(f"the built-in emulator did not start: {exc}") from None
    return process


def emulated_quota(scenario: Scenario, model: str) -> dict[str, Any] | None:
    """The quota the built-in emulator holds `model` to under --emulate; None: unlimited."""
    config = _emulator_config(scenario)
    quota = config.quota_for(config.profile_for(model))
    if quota is None:
        return None
    return {"rpm": quota.rpm, "tpm": quota.tpm, "output_burndown": quota.output_burndown}


def _emulator_config(scenario: Scenario) -> EmulatorConfig:
    """The built-in profiles, with the scenario's `emulator:` section laid over them."""
    builtin = EmulatorConfig.builtin()
    try:
        given = EmulatorConfig.model_validate(scenario.emulator or {})
    except ValidationError as exc:
        problems = [
            f"emulator.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        ]
        raise ConfigError(problems, str(scenario.base_dir)) from None
    if scenario.emulator is None:
        return builtin
    return given.model_copy(update={"profiles": {**builtin.profiles, **given.profiles}})


def _api_phases(apis: list[str], phases: list[list[str]]) -> Iterator[tuple[str, list[str]]]:
    """Every phase through the first API, then (compare_streaming) every phase again through
    the second: one API at a time, so neither's latency is load from the other."""
    for api in apis:
        for models in phases:
            yield api, models


def _check_api_setup(scenario: Scenario, apis: list[str], emulated: bool) -> None:
    source = str(scenario.base_dir)
    check_invoke_models(apis, [m.id for m in scenario.models], source)
    if is_openai(scenario.target.api) and scenario.target.endpoint_url is None and not emulated:
        raise ConfigError(
            [
                f"target.endpoint_url: api {scenario.target.api} needs the server's base URL, "
                "e.g. http://127.0.0.1:8000/v1 (or add --emulate)"
            ],
            source,
        )


def _backend(
    apis: list[str], target: TargetSpec, scenario: Scenario, credentials: dict[str, str] | None
) -> Backend:
    backends = {
        api: make_backend(
            api,
            target,
            scenario.timeouts,
            pool_size=target.max_connections or scenario.load.max_in_flight,
            static_credentials=credentials,
        )
        for api in apis
    }
    return backends[apis[0]] if len(apis) == 1 else ApiRouter(backends)


async def _check_aws_setup(backend: BedrockClient, target: TargetSpec) -> None:
    session = backend.session()
    try:
        credentials = await session.get_credentials()
    except Exception as exc:  # a broken profile or config file: say which, without secrets
        raise PreflightError(f"AWS credentials could not be loaded: {type(exc).__name__}") from None
    if credentials is None:
        raise PreflightError(
            "no AWS credentials found. Configure them (aws configure, AWS_PROFILE, or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or add --emulate to run against "
            "the built-in Bedrock emulator."
        )
    if not (target.region or session.region_name):
        raise PreflightError(
            "no AWS region set. Pass --region (e.g. us-east-1), set AWS_REGION, or put "
            "target.region in the scenario."
        )


def _describe_target(target: TargetSpec, emulated: bool) -> dict[str, Any]:
    return {
        "provider": "openai" if is_openai(target.api) else target.provider,
        "api": target.api,
        "region": target.region,
        "endpoint_url": redact_url(target.endpoint_url),
        "emulated": emulated,
    }


def _prepare_out_dir(out_dir: Path | None, scenario_name: str) -> Path:
    if out_dir is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out_dir = Path("reports") / f"{scenario_name}-{stamp}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise PreflightError(
            f"cannot write to the output folder {out_dir}: {exc.strerror}; pass --out DIR"
        ) from None
    return out_dir


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
