"""`loadgen run`: flags laid over the scenario, then one run (or workers, or Ray actors)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from loadgen.commands.options import (
    cloudwatch_options,
    cost_options,
    emulate_option,
    force_option,
    load_options,
    out_option,
    quiet_option,
    refuse_emulate_with_endpoint,
    scenario_argument,
    seed_option,
    target_options,
)
from loadgen.commands.terminal import friendly_errors, terminal_console, terminate_as_interrupt
from loadgen.scale.worker_count import RPS_PER_WORKER, check_workers, workers_for


@click.command()
@scenario_argument
@load_options
@click.option("--model", "models", multiple=True, help="Model id; repeat to test several.")
@click.option("--max-in-flight", type=int, help="Cap on requests in flight; beyond it, drop.")
@target_options
@click.option(
    "--api",
    help="bedrock-converse-stream (default), bedrock-converse, bedrock-invoke-stream, "
    "bedrock-invoke, openai-chat or openai-chat-nostream (target.api).",
)
@click.option(
    "--compare-streaming",
    is_flag=True,
    help="Also run the same prompts through the API's (non-)streaming twin and compare.",
)
@emulate_option
@out_option
@force_option
@seed_option
@click.option(
    "--grace",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds in-flight requests may finish after Ctrl-C.",
)
@cloudwatch_options
@cost_options
@click.option(
    "--skip-preflight", is_flag=True, help="Skip the one-call-per-model check before load."
)
@click.option(
    "--no-quality", is_flag=True, help="Skip scoring the responses' quality (docs/quality.md)."
)
@quiet_option
@click.option("--no-html", is_flag=True, help="Do not write report.html beside report.json.")
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
def run_command(scenario: Path, **flags: Any) -> None:
    """Run SCENARIO (a YAML file) and write report.json, report.html and samples.jsonl."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    from loadgen.config.scenario import load_scenario
    from loadgen.run import RunOptions
    from loadgen.run import run as run_scenario

    overrides = overrides_of(flags)
    refuse_emulate_with_endpoint(flags)
    loaded = load_scenario(scenario, overrides)
    options = RunOptions(
        out_dir=flags["out"],
        emulate=flags["emulate"],
        quiet=flags["quiet"],
        grace_s=flags["grace"],
        preflight=not flags["skip_preflight"],
        html=not flags["no_html"],
        quality=not flags["no_quality"],
        console=terminal_console(),
        emf=flags["emf"],
        cloudwatch_dry_run=flags["dry_run"],
        require_cloudwatch=flags["require_cloudwatch"],
    )
    terminate_as_interrupt()
    from loadgen.scale.workers import run_with_workers

    if flags["ray_address"] is not None:
        claim_out(flags)
        from loadgen.scale.ray_workers import run_with_ray

        ray_result = run_with_ray(loaded, options, flags["ray_address"] or None, flags["workers"])
        sys.exit(ray_result.exit_code)
    workers = flags["workers"] if flags["workers"] is not None else workers_for(loaded)
    check_workers(loaded, workers)
    claim_out(flags)
    if workers > 1:
        result = run_with_workers(loaded, options, workers)
    else:
        result = run_scenario(loaded, options)
    sys.exit(result.exit_code)


def claim_out(flags: dict[str, Any]) -> None:
    """--out: refused when it holds a run (unless --force); locked from here until the process
    ends, before preflight, so that no other run writes it (loadgen/run/out_folder.py). Without
    --out the run makes a new folder of its own."""
    from loadgen.run.out_folder import claim_out_dir

    if flags["out"] is not None:
        claim_out_dir(flags["out"], force=flags["force"])


def overrides_of(flags: dict[str, Any]) -> dict[str, Any]:
    """The scenario keys `run`'s flags set (those given): load_scenario lays them over it."""
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
        for key in ("endpoint_url", "region", "profile", "api")
        if flags[key] is not None
    }
    overrides: dict[str, Any] = {}
    if load:
        overrides["load"] = load
    if target:
        overrides["target"] = target
    if flags["models"]:
        overrides["models"] = list(flags["models"])
    if flags["seed"] is not None:
        overrides["seed"] = flags["seed"]
    if flags["compare_streaming"]:
        overrides["compare_streaming"] = True
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
        if flags[flag] is not None
    }
    for key in ("dashboard", "alarms"):
        if flags[key]:
            cloudwatch[key] = True
    if flags["cloudwatch"] or flags["dashboard"] or flags["alarms"]:
        cloudwatch["enabled"] = True
    if cloudwatch:
        overrides["cloudwatch"] = cloudwatch
    if flags["allow_unpriced"]:
        cost["allow_unpriced"] = True
    if cost:
        overrides["cost"] = cost
    return overrides
