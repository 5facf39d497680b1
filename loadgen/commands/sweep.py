"""`loadgen sweep`: the highest rate each model holds within its SLOs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from loadgen.commands.options import (
    allow_unpriced_option,
    api_key_env_option,
    api_option,
    emulate_option,
    flags_scenario_options,
    force_option,
    optional_scenario_argument,
    out_option,
    quiet_option,
    refuse_emulate_with_endpoint,
    seed_option,
    target_options,
)
from loadgen.commands.replay import refuse_replay_in_sweep
from loadgen.commands.run import claim_out, overrides_of, run_command
from loadgen.commands.terminal import friendly_errors, terminal_console, terminate_as_interrupt


@click.command()
@optional_scenario_argument
@click.option("--rates", help="The ladder, e.g. 1,2,5,10 (req/s); default: search for it.")
@click.option("--stage-duration", help="Measured time per stage, e.g. 30s (sweep.stage_duration).")
@click.option("--stage-warmup", help="Warmup before each stage, e.g. 5s (sweep.stage_warmup).")
@click.option("--start-rate", type=float, help="First rate of the search (sweep.start_rate).")
@click.option("--max-rate", type=float, help="Highest rate the search tries (sweep.max_rate).")
@click.option("--max-stages", type=int, help="Most stages per model (sweep.max_stages).")
@click.option(
    "--min-stage-requests",
    type=click.IntRange(min=1),
    help="A stage offering fewer runs longer (default 100; docs/sweep.md).",
)
@click.option(
    "--max-cost",
    type=click.FloatRange(min=0, min_open=True),
    help="Budget in USD for the whole sweep, every stage together (cost.max_usd).",
)
@click.option("--quota-rpm", type=int, help="The account's requests per minute per model.")
@click.option("--quota-tpm", type=int, help="The account's tokens per minute per model.")
@click.option(
    "--quota-from-account",
    is_flag=True,
    help="Without --quota-rpm/--quota-tpm, judge stages against the quotas Service Quotas "
    "gives each model (docs/quotas.md).",
)
@click.option("--arrival", type=click.Choice(["constant", "poisson"]), help="Arrival process.")
@click.option("--model", "models", multiple=True, help="Model id; repeat to sweep several.")
@flags_scenario_options
@target_options
@api_option
@api_key_env_option
@emulate_option
@out_option
@force_option
@seed_option
@allow_unpriced_option
@click.option("--skip-preflight", is_flag=True, help="Skip the check before the first stage.")
@quiet_option
@friendly_errors
def sweep_command(scenario: Path | None, **flags: Any) -> None:
    """Find the highest rate each model of SCENARIO holds within its SLOs (docs/sweep.md).

    Without SCENARIO, the flags are the scenario: --model ID --synthetic IN:OUT."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py): the scenario
    # first, so a bad one is refused before the ~1 s import of the run machinery.
    from loadgen.config.from_flags import build_scenario

    refuse_emulate_with_endpoint(flags)
    overrides = _sweep_overrides(flags)
    loaded = build_scenario(
        scenario, overrides, synthetic=flags["synthetic"], save_to=flags["save_scenario"]
    )
    refuse_replay_in_sweep(loaded, str(scenario or "loadgen sweep"))
    from loadgen.capacity.stage_length import MIN_STAGE_REQUESTS
    from loadgen.capacity.sweep import SweepOptions
    from loadgen.capacity.sweep import sweep as run_sweep

    options = SweepOptions(
        out_dir=flags["out"],
        emulate=flags["emulate"],
        quiet=flags["quiet"],
        preflight=not flags["skip_preflight"],
        min_stage_requests=flags["min_stage_requests"] or MIN_STAGE_REQUESTS,
        quota_from_account=flags["quota_from_account"],
        console=terminal_console(),
    )
    # The sweep's own folder: its stages' folders under it are new (each run locks its own).
    claim_out(flags)
    terminate_as_interrupt()
    result = run_sweep(loaded, options)
    sys.exit(result.exit_code)


def _plain_default(param: click.Parameter) -> Any:
    """A flag's default as the command would receive it (click marks "none given" with a
    sentinel object in recent versions)."""
    value = param.default
    return value if isinstance(value, bool | int | float | str | tuple | list) else None


def _sweep_overrides(flags: dict[str, Any]) -> dict[str, Any]:
    # `run`'s flags that sweep does not take, at their defaults: one overrides_of for both.
    run_flags = {
        **{param.name: _plain_default(param) for param in run_command.params if param.name},
        "models": (),
        **flags,
    }
    overrides = overrides_of(run_flags)
    settings: dict[str, Any] = {
        key: flags[key]
        for key in ("stage_duration", "stage_warmup", "start_rate", "max_rate", "max_stages")
        if flags[key] is not None
    }
    if flags["rates"] is not None:
        try:
            settings["rates"] = [float(r) for r in flags["rates"].split(",") if r.strip()]
        except ValueError:
            raise click.BadParameter(
                f"expected rates in req/s separated by commas, e.g. 1,2,5,10; got "
                f"{flags['rates']!r}",
                param_hint="--rates",
            ) from None
    quota = {
        key: flags[flag]
        for key, flag in (("rpm", "quota_rpm"), ("tpm", "quota_tpm"))
        if flags[flag] is not None
    }
    if quota:
        settings["quota"] = quota
    if settings:
        overrides["sweep"] = settings
    return overrides
