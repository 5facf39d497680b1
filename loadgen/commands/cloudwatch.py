"""`loadgen dashboard` and `loadgen alarms`: put a scenario's CloudWatch dashboard or alarms
without running it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from loadgen.commands.options import scenario_argument, stacked
from loadgen.commands.replay import refuse_every_replayed_model
from loadgen.commands.terminal import friendly_errors

if TYPE_CHECKING:  # imported when a command runs: `loadgen --help` should not load the SDK
    from loadgen.cloudwatch.setup import CloudWatchTarget
    from loadgen.config.scenario import Scenario

# SCENARIO and where to send: the options `dashboard` and `alarms` share.
cloudwatch_command_options = stacked(
    scenario_argument,
    click.option("--region", help="CloudWatch region (default: the scenario's, AWS_REGION)."),
    click.option("--profile", help="AWS named profile for credentials."),
    click.option("--cloudwatch-endpoint-url", help="CloudWatch endpoint, e.g. moto."),
    click.option("--dry-run", is_flag=True, help="Print the calls instead of making them."),
)


@click.command()
@cloudwatch_command_options
@friendly_errors
def dashboard(scenario: Path, **flags: Any) -> None:
    """Put SCENARIO's CloudWatch dashboard: its metrics and AWS/Bedrock's, per model."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    import asyncio

    from loadgen.cloudwatch.around_run import dashboard_for
    from loadgen.cloudwatch.setup import put_dashboard
    from loadgen.config.scenario import load_scenario

    loaded = load_scenario(scenario)
    refuse_every_replayed_model(loaded, str(scenario), "a dashboard")
    target = _target(loaded, flags)
    name, body = dashboard_for(loaded, target.region or "us-east-1")
    out = sys.stdout if flags["dry_run"] else None
    messages = asyncio.run(put_dashboard(target, name, body, out))
    for message in messages:
        click.echo(f"CloudWatch: {message}", err=True)
    if not flags["dry_run"]:
        click.echo(f"dashboard {name} put in {target.region}: {len(body['widgets'])} widgets")


@click.command()
@cloudwatch_command_options
@click.option("--sns-topic", help="SNS topic ARN to notify (default: cloudwatch.alarm_topic).")
@friendly_errors
def alarms(scenario: Path, **flags: Any) -> None:
    """Put SCENARIO's thresholds as CloudWatch alarms, one per threshold and model."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    import asyncio

    from loadgen.cloudwatch.around_run import alarms_for
    from loadgen.cloudwatch.setup import put_alarms
    from loadgen.config.scenario import load_scenario
    from loadgen.core.errors import ConfigError

    overrides = {"cloudwatch": {"alarm_topic": flags["sns_topic"]}} if flags["sns_topic"] else {}
    loaded = load_scenario(scenario, overrides)
    refuse_every_replayed_model(loaded, str(scenario), "alarms")
    if not loaded.thresholds:
        raise ConfigError(["no thresholds: to make alarms, add a thresholds: list"], str(scenario))
    target = _target(loaded, flags)
    requests, refused = alarms_for(loaded)
    for refusal in refused:
        click.echo(str(refusal), err=True)
    out = sys.stdout if flags["dry_run"] else None
    put = asyncio.run(put_alarms(target, requests, out))
    if not flags["dry_run"]:
        for request in requests:
            click.echo(request["AlarmName"])
        click.echo(f"{put} alarms put in {target.region}; {len(refused)} thresholds refused")


def _target(scenario: Scenario, flags: dict[str, Any]) -> CloudWatchTarget:
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    from loadgen.cloudwatch.around_run import command_target

    return command_target(
        scenario,
        region=flags["region"],
        profile=flags["profile"],
        endpoint_url=flags["cloudwatch_endpoint_url"],
        dry_run=flags["dry_run"],
    )
