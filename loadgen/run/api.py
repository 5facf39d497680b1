"""One load test from scenario to report: `run` and `run_async`, behind `loadgen run`.

The parts, in the order a run meets them: setup.py (checks, backend), emulated.py (--emulate),
preflight.py, measure.py (phases sent and recorded; loadgen/plan/phases.py says what is sent),
sinks.py (where samples go), finish.py (report.json, exit code), outputs.py (report.html, the
console summary).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random

from loadgen.backends.bedrock_client import EMULATOR_CREDENTIALS, BedrockClient
from loadgen.backends.invoke_bodies import model_family
from loadgen.config.apis import apis_of_run, is_openai
from loadgen.config.scenario import Scenario
from loadgen.core.clock import Clock, MonotonicClock
from loadgen.core.event_loop import run_blocking
from loadgen.cost.price_age import old_prices_warning, today_utc
from loadgen.cost.price_check import resolve_prices
from loadgen.engine.stopping import RunStop
from loadgen.plan.prompts import PromptSource, load_rows
from loadgen.replay.setup import load_replay
from loadgen.report.replay_section import replay_report
from loadgen.run.emulated import EMULATOR_REGION, emulated_target, start_emulator
from loadgen.run.finish import RunResult, exit_code_of, finish, mark_stop, write_report
from loadgen.run.measure import measure
from loadgen.run.options import RunOptions
from loadgen.run.outputs import finish_outputs_stoppable, write_stats
from loadgen.run.preflight import check_models, lifecycle_warnings
from loadgen.run.quota_limits import run_quotas
from loadgen.run.setup import (
    check_api_setup,
    check_aws_setup,
    freeze_setup_objects,
    make_backend,
    prepare_out_dir,
)
from loadgen.run.sinks import check_output_targets
from loadgen.run.token_counting import prepare_synthetic


def run(scenario: Scenario, options: RunOptions | None = None) -> RunResult:
    """Run a scenario to its end (or an interrupt) and write its report. Blocks."""
    return run_blocking(run_async(scenario, options or RunOptions()))


async def run_async(
    scenario: Scenario,
    options: RunOptions,
    clock: Clock | None = None,
    stop: RunStop | None = None,
) -> RunResult:
    """The run, from setup to the last file. One RunStop covers all of it: a signal in any
    phase (setup, preflight, load, drain, scoring, publishing, writing) stops the step in
    progress, and the run still writes its report and exits with the code for that cause.

    `stop`: the caller's own, for a run on a thread other than the main one, where no signal
    handler can be installed; the caller requests the stop on the run's loop
    (loadgen/notebook/blocking.py: Ctrl-C, or "interrupt the kernel")."""
    clock = clock or MonotonicClock()
    seed = scenario.seed if scenario.seed is not None else random.SystemRandom().randrange(2**31)
    replay = None
    if scenario.load.replay is not None:
        # A replay's models and prompts come from its log: every later step sees them.
        replay = await load_replay(scenario, seed, lambda model: model_family(model) is not None)
        scenario = replay.scenario
    prompts = PromptSource(scenario, load_rows(scenario), seed)
    out_dir = prepare_out_dir(options.out_dir, scenario.name)
    check_output_targets(out_dir, options.emf)
    stop = stop or RunStop()
    with stop.on_signals(), contextlib.ExitStack() as stack:
        target = scenario.target
        apis = apis_of_run(target.api, scenario.compare_streaming)
        if replay is not None:
            apis = replay.apis
        check_api_setup(scenario, replay.checked_apis if replay else apis, options.emulated)
        credentials = None
        emulator = None
        if options.emulate:
            emulator = stack.enter_context(start_emulator(scenario))
            target = emulated_target(target, emulator.url)
            credentials = EMULATOR_CREDENTIALS
        elif options.shared_emulator_url is not None:  # a sweep's or the worker parent's
            target = emulated_target(target, options.shared_emulator_url)
            credentials = EMULATOR_CREDENTIALS
        backend = options.shared_backend or make_backend(apis, target, scenario, credentials)
        aws = (
            None if is_openai(target.api) else BedrockClient(target, scenario.timeouts, pool_size=1)
        )
        found = None
        if aws is not None and credentials is None:
            found = await stop.until_stopped(check_aws_setup(aws, target))
        region, region_source = found or (target.region or EMULATOR_REGION, "scenario")
        if options.emulated:
            region_source = "emulator"
        prices = resolve_prices(scenario, region)
        old = old_prices_warning(prices, scenario.cost.max_price_age_days, today_utc())
        if old is not None and not options.quiet:
            options.console.print(f"warning: {old}", style="yellow", markup=False)
        if not options.quiet:  # AWS's model lifecycle: a legacy or end-of-life model
            for line in lifecycle_warnings(
                [m.id for m in scenario.models], today_utc(), options.emulated
            ):
                options.console.print(f"warning: {line}", style="yellow", markup=False)
        if options.shared_backend is None:
            await stop.until_stopped(backend.start())
        try:
            if options.preflight:
                stop.phase = "preflight"
                endpoint = target.endpoint_url or f"the Bedrock endpoint in {region}"
                probes = (
                    replay.models_by_api() if replay else {None: [m.id for m in scenario.models]}
                )
                for api, models in probes.items():
                    await stop.until_stopped(check_models(backend, models, endpoint, api))
            if prompts.synthetic is not None:  # made to each model's token count, now
                where = (target.endpoint_url or f"bedrock:{region}", target.api)
                await stop.until_stopped(
                    prepare_synthetic(
                        prompts.synthetic,
                        backend,
                        [m.id for m in scenario.models],
                        where,
                        calibrate=options.preflight,
                    )
                )
            quotas = await stop.until_stopped(
                run_quotas(
                    scenario,
                    target,
                    region,
                    from_account=options.quota_from_account and not options.emulated,
                    emulated=options.emulated,
                    console=options.console,
                )
            )
            freeze_setup_objects()
            # A stop before this point sends nothing; the report still says where it came.
            measured = await measure(
                scenario,
                options,
                clock,
                backend,
                prompts,
                seed,
                out_dir,
                target,
                prices,
                stop,
                quotas,
                replay,
            )
            result = await finish(
                scenario,
                measured,
                prompts,
                seed,
                target,
                (region, region_source),
                options.emulated,
                prices,
                out_dir,
                options.require_cloudwatch,
            )
        finally:
            gc.unfreeze()
            if options.shared_backend is None:
                await backend.close()
        if emulator is not None:
            result.report["run"]["emulator"] = await asyncio.to_thread(emulator.stats)
            write_report(out_dir, result.report)
        if replay is not None:  # the source beside what was sent (docs/replay.md)
            result.report["replay"] = await asyncio.to_thread(replay_report, replay, out_dir)
            write_report(out_dir, result.report)
        await finish_outputs_stoppable(result.report, out_dir, options.html, options.display, stop)
        await asyncio.sleep(0)  # a signal that came during the last step is handled now
        if stop.status is not None and result.report["run"]["status"] != stop.status:
            # Stopped after report.json was written (while the page rendered): say so in it.
            mark_stop(result.report, stop)
            write_report(out_dir, result.report)
            write_stats(result.report, out_dir, options.display)  # its status column too
            result.exit_code = exit_code_of(stop.status, result.report)
    return result
