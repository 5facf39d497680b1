"""Options that several commands take, defined once so that their names and help agree.

A group lists its options in the order --help shows them, as if stacked over the command.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def stacked(*decorators: Callable[[Any], Any]) -> Callable[[F], F]:
    """Several click decorators as one; the first listed is the first in --help."""

    def apply(function: F) -> F:
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


scenario_argument = click.argument("scenario", type=click.Path(path_type=Path, dir_okay=False))
# `run` and `sweep`: without a SCENARIO, the flags build one (loadgen/config/from_flags.py).
optional_scenario_argument = click.argument(
    "scenario", required=False, type=click.Path(path_type=Path, dir_okay=False)
)
flags_scenario_options = stacked(
    click.option(
        "--synthetic",
        metavar="IN:OUT[:PREFIX]",
        help="Synthetic prompts of IN input and OUT output tokens (and a shared prefix of "
        "PREFIX tokens), replacing the scenario's dataset; with --model, no SCENARIO needed.",
    ),
    click.option(
        "--save-scenario",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Write the scenario this run uses (file and flags, with its seed) as YAML to FILE.",
    ),
)
api_option = click.option(
    "--api",
    help="bedrock-converse-stream (default), bedrock-converse, bedrock-invoke-stream, "
    "bedrock-invoke, openai-chat or openai-chat-nostream (target.api).",
)
api_key_env_option = click.option(
    "--api-key-env",
    metavar="VAR",
    help="The environment variable holding an OpenAI-compatible server's API key "
    "(target.api_key_env).",
)

# Where requests go: the target of the scenario, overridden.
target_options = stacked(
    click.option("--endpoint-url", help="Send to this URL instead of the AWS endpoint."),
    click.option("--region", help="AWS region, e.g. us-east-1."),
    click.option("--profile", help="AWS named profile for credentials."),
)

emulate_option = click.option(
    "--emulate", is_flag=True, help="Start the built-in Bedrock emulator and use it."
)
out_option = click.option(
    "--out", type=click.Path(path_type=Path, file_okay=False), help="Output folder."
)
force_option = click.option(
    "--force",
    is_flag=True,
    help="Write into an --out folder that already holds a run, over its files.",
)
seed_option = click.option(
    "--seed", type=int, help="Seed for arrivals and row order (default: random)."
)
allow_unpriced_option = click.option(
    "--allow-unpriced", is_flag=True, help="Run models without a known price; cost is null."
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
wide_option = click.option(
    "--wide",
    is_flag=True,
    help="Print each table whole, with full model ids, however wide (default: fit the terminal).",
)

# How a run (`run`, `replay`) goes: its cap, its preflight, its stop, its verdict, its page.
max_in_flight_option = click.option(
    "--max-in-flight", type=int, help="Cap on requests in flight; beyond it, drop."
)
skip_preflight_option = click.option(
    "--skip-preflight", is_flag=True, help="Skip the one-call-per-model check before load."
)
grace_option = click.option(
    "--grace",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds in-flight requests may finish after Ctrl-C.",
)
fail_on_limited_option = click.option(
    "--fail-on-limited",
    is_flag=True,
    help="Exit 8 when the run is not trustworthy: the generator was limited or dropped "
    "requests (fail_on_limited).",
)
no_html_option = click.option(
    "--no-html", is_flag=True, help="Do not write report.html beside report.json."
)

# `loadgen run`'s schedule: each overrides a key of the scenario's load: section.
load_options = stacked(
    click.option("--rps", type=float, help="Target requests per second (load.rate)."),
    click.option("--duration", help="How long to send after warmup, e.g. 30s, 2m (load.duration)."),
    click.option("--requests", type=int, help="Send this many measured requests (load.requests)."),
    click.option("--warmup", help="Warmup before measuring, e.g. 5s (load.warmup)."),
    click.option(
        "--arrival", type=click.Choice(["constant", "poisson", "gamma"]), help="Arrival process."
    ),
    click.option("--cv", type=float, help="Gamma gaps' coefficient of variation (load.cv)."),
    click.option(
        "--concurrency",
        type=int,
        help="Closed loop: N users, each sending when its last request ends (load.concurrency).",
    ),
)

# Publishing a run's metrics: CloudWatch during the run, or EMF lines for an agent to ship.
cloudwatch_options = stacked(
    click.option(
        "--cloudwatch", is_flag=True, help="Publish metrics to CloudWatch during the run."
    ),
    click.option(
        "--cloudwatch-endpoint-url", help="CloudWatch endpoint (e.g. a local moto server)."
    ),
    click.option("--cloudwatch-region", help="CloudWatch region (default: the target's)."),
    click.option("--cloudwatch-profile", help="AWS profile for CloudWatch (default: --profile)."),
    click.option("--cloudwatch-interval", help="Publish every D, e.g. 10s (cloudwatch.interval)."),
    click.option(
        "--dashboard", is_flag=True, help="Put the scenario's dashboard (implies --cloudwatch)."
    ),
    click.option("--alarms", is_flag=True, help="Put thresholds as alarms (implies --cloudwatch)."),
    click.option("--sns-topic", help="SNS topic ARN the alarms notify (cloudwatch.alarm_topic)."),
    click.option("--emf", help="Write the metrics as CloudWatch EMF lines to FILE ('-': stdout)."),
    click.option(
        "--dry-run", is_flag=True, help="Print the CloudWatch calls instead of making them."
    ),
    click.option(
        "--require-cloudwatch", is_flag=True, help="Exit 5 when anything was not published."
    ),
)

# What a run may spend, and the bill it projects.
cost_options = stacked(
    click.option("--max-cost", type=float, help="Budget in USD: stop sending before passing it."),
    click.option("--project-rps", type=float, help="Also project the bill at this request rate."),
    allow_unpriced_option,
)


def refuse_emulate_with_endpoint(flags: dict[str, Any]) -> None:
    if flags["emulate"] and flags["endpoint_url"]:
        raise click.UsageError("--emulate starts its own endpoint: drop --endpoint-url or it")
