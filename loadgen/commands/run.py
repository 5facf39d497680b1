"""`loadgen run`: flags laid over the scenario, then one run (or workers, or Ray actors)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from loadgen.commands.options import (
    api_key_env_option,
    api_option,
    cloudwatch_options,
    cost_options,
    emulate_option,
    fail_on_limited_option,
    flags_scenario_options,
    force_option,
    grace_option,
    load_options,
    max_in_flight_option,
    no_html_option,
    optional_scenario_argument,
    out_option,
    quiet_option,
    refuse_emulate_with_endpoint,
    seed_option,
    skip_preflight_option,
    target_options,
    wide_option,
)
from loadgen.commands.terminal import friendly_errors, terminal_console, terminate_as_interrupt
from loadgen.commands.tool_outputs import tool_output_options, write_tool_outputs
from loadgen.scale.worker_count import RPS_PER_WORKER, check_workers, workers_for

if TYPE_CHECKING:
    from loadgen.run import RunOptions, RunResult


@click.command()
@optional_scenario_argument
@load_options
@click.option("--model", "models", multiple=True, help="Model id; repeat to test several.")
@flags_scenario_options
@max_in_flight_option
@target_options
@api_option
@api_key_env_option
@click.option(
    "--compare-streaming",
    is_flag=True,
    help="Also run the same prompts through the API's (non-)streaming twin and compare.",
)
@emulate_option
@out_option
@force_option
@seed_option
@grace_option
@cloudwatch_options
@cost_options
@skip_preflight_option
@click.option(
    "--quota-from-account",
    is_flag=True,
    help="Read each model's Bedrock quotas from Service Quotas and report the headroom "
    "(docs/quotas.md).",
)
@click.option(
    "--no-quality", is_flag=True, help="Skip scoring the responses' quality (docs/quality.md)."
)
@click.option(
    "--keep-text",
    is_flag=True,
    help="Write each response's text into samples.jsonl (response_text).",
)
@fail_on_limited_option
@quiet_option
@wide_option
@no_html_option
@tool_output_options
@click.option(
    "--workers",
    type=int,
    help="Worker processes sharing the load (default: one per "
    f"{RPS_PER_WORKER:.0f} req/s, up to the cores).",
)
@click.option(
    "--ray",
    "ray_address",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[ADDRESS]",
    help="Spread the workers over Ray actors: a local Ray, or the cluster at ADDRESS "
    "(pip install 'loadgen[ray]'; docs/scaling.md).",
)
@friendly_errors
def run_command(scenario: Path | None, **flags: Any) -> None:
    """Run SCENARIO (a YAML file) and write report.json, report.html and samples.jsonl.

    Without SCENARIO, the flags are the scenario: --model ID --synthetic IN:OUT and the load
    (--rps, --duration); --save-scenario FILE writes it as YAML."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py): the scenario
    # first, so a bad one is refused before the ~1 s import of the run machinery (SDKs, page).
    from loadgen.config.from_flags import build_scenario

    overrides = overrides_of(flags)
    refuse_emulate_with_endpoint(flags)
    loaded = build_scenario(
        scenario, overrides, synthetic=flags["synthetic"], save_to=flags["save_scenario"]
    )
    from loadgen.run import run as run_scenario

    options = run_options_of(
        flags,
        quota_from_account=flags["quota_from_account"],
        quality=not flags["no_quality"],
        keep_text=flags["keep_text"],
        emf=flags["emf"],
        cloudwatch_dry_run=flags["dry_run"],
        require_cloudwatch=flags["require_cloudwatch"],
    )
    terminate_as_interrupt()
    from loadgen.scale.workers import run_with_workers

    replay_split = flags["ray_address"] is not None or (flags["workers"] or 1) > 1
    if loaded.load.replay is not None and replay_split:
        raise click.UsageError("a replay (load.replay) runs in one process: drop --workers/--ray")
    if flags["ray_address"] is not None:
        claim_out(flags)
        from loadgen.scale.ray_workers import run_with_ray

        ray_result = run_with_ray(loaded, options, flags["ray_address"] or None, flags["workers"])
        write_tool_outputs(ray_result.report, flags)
        sys.exit(exit_code_of_run(ray_result, loaded.fail_on_limited))
    workers = flags["workers"] if flags["workers"] is not None else workers_for(loaded)
    check_workers(loaded, workers)
    claim_out(flags)
    if workers > 1:
        result = run_with_workers(loaded, options, workers)
    else:
        result = run_scenario(loaded, options)
    write_tool_outputs(result.report, flags)
    sys.exit(exit_code_of_run(result, loaded.fail_on_limited))


def run_options_of(flags: dict[str, Any], **more: Any) -> RunOptions:
    """The RunOptions of the flags every running command takes (--out, --emulate, --quiet,
    --grace, --skip-preflight, --no-html, --wide), with `more` of the command's own."""
    from loadgen.run import RunOptions

    return RunOptions(
        out_dir=flags["out"],
        emulate=flags["emulate"],
        quiet=flags["quiet"],
        grace_s=flags["grace"],
        preflight=not flags["skip_preflight"],
        html=not flags["no_html"],
        console=terminal_console(flags["wide"]),
        **more,
    )


def exit_code_of_run(result: RunResult, fail_on_limited: bool) -> int:
    """The run's exit code, 8 with --fail-on-limited (or the scenario's fail_on_limited) when
    the generator was limited or dropped requests; said on stderr, since CI reads the code."""
    from loadgen.run.finish import EXIT_NOT_TRUSTWORTHY, trusted_exit_code

    exit_code = trusted_exit_code(result.exit_code, result.report, fail_on_limited)
    if exit_code == EXIT_NOT_TRUSTWORTHY and exit_code != result.exit_code:
        click.echo(
            f"run not trustworthy (generator limited or requests dropped): exit code "
            f"{EXIT_NOT_TRUSTWORTHY} (fail_on_limited)",
            err=True,
        )
    return exit_code


def claim_out(flags: dict[str, Any]) -> None:
    """--out: refused when it holds a run (unless --force); locked from here until the process
    ends, before preflight, so that no other run writes it (loadgen/run/out_folder.py). Without
    --out the run makes a new folder of its own."""
    from loadgen.run.out_folder import claim_out_dir

    if flags["out"] is not None:
        claim_out_dir(flags["out"], force=flags["force"])


def overrides_of(flags: dict[str, Any]) -> dict[str, Any]:
    """The scenario keys `run`'s flags set (those given): load_scenario lays them over it.

    Another running command (`replay`) passes its own flags: one of `run`'s that it does not
    take is read as not given."""
    load = {
        key: flags[flag]
        for key, flag in (
            ("rate", "rps"),
            ("duration", "duration"),
            ("requests", "requests"),
            ("warmup", "warmup"),
            ("arrival", "arrival"),
            ("max_in_flight", "max_in_flight"),
            ("cv", "cv"),
            ("concurrency", "concurrency"),
        )
        if flags.get(flag) is not None
    }
    target = {
        key: flags[key]
        for key in ("endpoint_url", "region", "profile", "api", "api_key_env")
        if flags.get(key) is not None
    }
    overrides: dict[str, Any] = {}
    if load:
        overrides["load"] = load
    if target:
        overrides["target"] = target
    if flags.get("models"):
        overrides["models"] = list(flags["models"])
    if flags["seed"] is not None:
        overrides["seed"] = flags["seed"]
    if flags.get("compare_streaming"):
        overrides["compare_streaming"] = True
    if flags["fail_on_limited"]:
        overrides["fail_on_limited"] = True
    cost = {
        key: flags[flag]
        for key, flag in (("max_usd", "max_cost"), ("project_rps", "project_rps"))
        if flags[flag] is not None
    }
    cloudwatch = {
        key: flags[flag]
        for key, flag in (
            ("endpoint_url", "cloudwatch_endpoint_url"),
            ("region", "cloudwatch_region"),
            ("profile", "cloudwatch_profile"),
            ("interval", "cloudwatch_interval"),
            ("alarm_topic", "sns_topic"),
        )
        if flags.get(flag) is not None
    }
    for key in ("dashboard", "alarms"):
        if flags.get(key):
            cloudwatch[key] = True
    if flags.get("cloudwatch") or flags.get("dashboard") or flags.get("alarms"):
        cloudwatch["enabled"] = True
    if cloudwatch:
        overrides["cloudwatch"] = cloudwatch
    if flags["allow_unpriced"]:
        cost["allow_unpriced"] = True
    if cost:
        overrides["cost"] = cost
    return overrides
