"""`loadgen replay SOURCE...`: a run at the instants of a log of real traffic (docs/replay.md).

The command builds `load: {replay: ...}` from its flags, over a scenario (`--scenario FILE`:
its target, timeouts, thresholds, models as a filter) or with none (the log's models, the
default target), and runs it as `loadgen run` would run that scenario."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from loadgen.commands.options import (
    cost_options,
    emulate_option,
    fail_on_limited_option,
    force_option,
    grace_option,
    max_in_flight_option,
    no_html_option,
    out_option,
    quiet_option,
    refuse_emulate_with_endpoint,
    seed_option,
    skip_preflight_option,
    target_options,
    wide_option,
)
from loadgen.commands.terminal import friendly_errors, terminate_as_interrupt

if TYPE_CHECKING:
    from loadgen.config.scenario import Scenario

S3_SCHEME = "s3://"


@click.command("replay")
@click.argument("sources", nargs=-1, required=True)
@click.option(
    "--scenario",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="Take the target, timeouts, thresholds and models (as a filter) from this scenario.",
)
@click.option(
    "--model",
    help="Send every call to this model id (as --map '*=ID'); needed for a trace that names none.",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="SRC=DST",
    help="Send the calls of model SRC (or *) to model DST; repeat for several.",
)
@click.option("--speed", type=float, help="Time compression: 4 replays an hour in 15 minutes.")
@click.option("--rate-scale", type=float, help="Below 1 thin the arrivals, above 1 duplicate them.")
@click.option(
    "--window",
    metavar="START..END",
    help="Only calls in it: UTC times (2025-06-03T14:00Z..2025-06-03T15:00Z) or offsets from "
    "the first call (10m..40m); either side may be left out.",
)
@click.option("--limit", type=int, help="Send at most this many requests.")
@click.option(
    "--one-api",
    is_flag=True,
    help="Send every call through target.api (--api), not through its logged operation's API.",
)
@click.option(
    "--timestamp-is",
    type=click.Choice(["start", "end"]),
    help="What a logged timestamp marks (default start; end moves it back by latencyMs).",
)
@click.option("--s3-region", help="Region of the s3:// sources' bucket.")
@click.option("--s3-profile", help="AWS profile to read s3:// sources with.")
@click.option("--s3-endpoint-url", help="S3 endpoint for s3:// sources (e.g. a local moto).")
@target_options
@click.option(
    "--api",
    help="target.api: the API family the calls go through (bedrock-converse-stream default; "
    "openai-chat sends them to an OpenAI-compatible server).",
)
@max_in_flight_option
@emulate_option
@out_option
@force_option
@seed_option
@cost_options
@skip_preflight_option
@grace_option
@fail_on_limited_option
@quiet_option
@wide_option
@no_html_option
@friendly_errors
def replay_command(sources: tuple[str, ...], **flags: Any) -> None:
    """Replay SOURCE... (invocation logs as delivered to S3, a folder or files, s3://bucket/
    prefix, a CloudWatch Logs export, or the Azure or BurstGPT trace CSV) and write report.json,
    report.html and samples.jsonl; report.json's `replay` compares the replay with its source."""
    from loadgen.commands.run import claim_out, exit_code_of_run, overrides_of, run_options_of
    from loadgen.config.scenario import scenario_from_dict

    refuse_emulate_with_endpoint(flags)
    data, base_dir, source = scenario_data(flags["scenario"])
    data["load"] = {
        **{key: value for key, value in data.get("load", {}).items() if key == "max_in_flight"},
        "replay": replay_options(sources, flags),
    }
    scenario = scenario_from_dict(
        data, base_dir=base_dir, overrides=overrides_of(flags), source=source
    )
    from loadgen.run import run as run_scenario  # after the scenario: a bad one fails fast

    options = run_options_of(flags)
    terminate_as_interrupt()
    claim_out(flags)
    result = run_scenario(scenario, options)
    sys.exit(exit_code_of_run(result, scenario.fail_on_limited))


def scenario_data(path: Path | None) -> tuple[dict[str, Any], Path, str]:
    """The scenario's keys (none: a replay of the log's models, to the default target), the
    folder its relative paths are from, and its name for messages."""
    if path is None:
        return {"name": "replay"}, Path.cwd(), "loadgen replay"
    import yaml

    from loadgen.core.errors import ConfigError

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError([f"cannot read it: {exc}"], str(path)) from None
    if not isinstance(data, dict):
        raise ConfigError(["expected a mapping of scenario keys at the top"], str(path))
    # The scenario's own prompts and load are the replay's to give.
    for key in ("prompt", "dataset"):
        data.pop(key, None)
    return data, path.parent, str(path)


def replay_options(sources: tuple[str, ...], flags: dict[str, Any]) -> dict[str, Any]:
    """load.replay from the flags. Local sources are taken from the current folder."""
    mapping = dict(_pair(entry) for entry in flags["mapping"])
    if flags["model"]:
        if "*" in mapping:
            raise click.UsageError("--model is --map '*=ID': give one of them, not both")
        mapping["*"] = flags["model"]
    replay: dict[str, Any] = {
        "source": [
            source if source.startswith(S3_SCHEME) else str(Path(source).resolve())
            for source in sources
        ],
        "map": mapping,
    }
    for key, flag in (
        ("speed", "speed"),
        ("rate_scale", "rate_scale"),
        ("window", "window"),
        ("limit", "limit"),
        ("timestamp_is", "timestamp_is"),
    ):
        if flags[flag] is not None:
            replay[key] = flags[flag]
    if flags["one_api"]:
        replay["api"] = "scenario"
    s3 = {
        key: flags[flag]
        for key, flag in (
            ("region", "s3_region"),
            ("profile", "s3_profile"),
            ("endpoint_url", "s3_endpoint_url"),
        )
        if flags[flag] is not None
    }
    if s3:
        replay["s3"] = s3
    return replay


def refuse_replay_in_sweep(scenario: Scenario, source: str) -> None:
    """A sweep sets each stage's rate; a replay's arrivals are its log's: refused before any
    request, with what to do instead (ConfigError: exit 2)."""
    from loadgen.core.errors import ConfigError

    if scenario.load.replay is not None:
        raise ConfigError(
            [
                "load.replay: a sweep cannot run a replay: a replay has its own arrivals (the "
                "log's instants), and a sweep sets the rate of each stage. To replay faster or "
                "denser, use `loadgen replay SOURCE --speed X` or `--rate-scale X`; to sweep, "
                "use a scenario with load.rate (or --model ID --synthetic IN:OUT)"
            ],
            source,
        )


def refuse_every_replayed_model(scenario: Scenario, source: str, what: str) -> None:
    """A replay scenario's `models: ['*']` stands for whatever models the log holds, known
    only once it is read: a command that needs model ids (a dashboard, alarms) is refused."""
    from loadgen.config.scenario import EVERY_REPLAYED_MODEL
    from loadgen.core.errors import ConfigError

    if any(model.id == EVERY_REPLAYED_MODEL for model in scenario.models):
        raise ConfigError(
            [
                f"models: '*' (every model of the replayed log) names no model for {what}: "
                "list the model ids the replay sends to under models:"
            ],
            source,
        )


def _pair(entry: str) -> tuple[str, str]:
    source, equals, target = entry.partition("=")
    if not equals or not source.strip() or not target.strip():
        raise click.UsageError(f"--map {entry!r}: expected SRC=DST, e.g. --map '*=MODEL_ID'")
    return source.strip(), target.strip()
