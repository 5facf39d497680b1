"""`loadgen`: a thin command line over the library. Exit codes are in docs/cli.md."""

from __future__ import annotations

import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console

from loadgen import __version__
from loadgen.errors import LoadgenError

F = TypeVar("F", bound=Callable[..., Any])
EXIT_INTERNAL = 1


def _friendly_errors(function: F) -> F:
    """Errors a user can cause print one clear message and exit with their code; only a bug
    prints a traceback (exit 1)."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except LoadgenError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except KeyboardInterrupt:
            sys.exit(130)
        except Exception:
            traceback.print_exc()
            click.echo("error: internal error in loadgen (a bug: please report it)", err=True)
            sys.exit(EXIT_INTERNAL)

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="loadgen")
def main() -> None:
    """Load-test LLM endpoints (Amazon Bedrock) and report latency, tokens and errors."""


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--rps", type=float, help="Target requests per second (load.rate).")
@click.option("--duration", help="How long to send after warmup, e.g. 30s, 2m (load.duration).")
@click.option("--requests", type=int, help="Send this many measured requests (load.requests).")
@click.option("--warmup", help="Warmup before measuring, e.g. 5s (load.warmup).")
@click.option(
    "--arrival", type=click.Choice(["constant", "poisson", "gamma"]), help="Arrival process."
)
@click.option("--cv", type=float, help="Gamma gaps' coefficient of variation (load.cv).")
@click.option(
    "--concurrency",
    type=int,
    help="Closed loop: N users, each sending when its last request ends (load.concurrency).",
)
@click.option("--model", "models", multiple=True, help="Model id; repeat to test several.")
@click.option("--max-in-flight", type=int, help="Cap on requests in flight; beyond it, drop.")
@click.option("--endpoint-url", help="Send to this URL instead of the AWS endpoint.")
@click.option("--region", help="AWS region, e.g. us-east-1.")
@click.option("--profile", help="AWS named profile for credentials.")
@click.option("--emulate", is_flag=True, help="Start the built-in Bedrock emulator and use it.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Output folder.")
@click.option("--seed", type=int, help="Seed for arrivals and row order (default: random).")
@click.option(
    "--grace",
    type=float,
    default=10.0,
    show_default=True,
    help="Seconds in-flight requests may finish after Ctrl-C.",
)
@click.option("--cloudwatch", is_flag=True, help="Publish metrics to CloudWatch during the run.")
@click.option("--max-cost", type=float, help="Budget in USD: stop sending before passing it.")
@click.option("--project-rps", type=float, help="Also project the bill at this request rate.")
@click.option(
    "--allow-unpriced", is_flag=True, help="Run models without a known price; cost is null."
)
@click.option(
    "--skip-preflight", is_flag=True, help="Skip the one-call-per-model check before load."
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@_friendly_errors
def run(scenario: Path, **flags: Any) -> None:
    """Run SCENARIO (a YAML file) and write report.json and samples.jsonl."""
    from loadgen.run import RunOptions
    from loadgen.run import run as run_scenario
    from loadgen.scenario import load_scenario

    overrides = _overrides(flags)
    if flags["emulate"] and flags["endpoint_url"]:
        raise click.UsageError("--emulate starts its own endpoint: drop --endpoint-url or it")
    loaded = load_scenario(scenario, overrides)
    options = RunOptions(
        out_dir=flags["out"],
        emulate=flags["emulate"],
        quiet=flags["quiet"],
        grace_s=flags["grace"],
        preflight=not flags["skip_preflight"],
        # Logs and CI capture are not terminals: give the table room rather than wrap it.
        console=Console(width=None if sys.stdout.isatty() else 160),
    )
    # Until the run installs its own handlers (and after it removes them), SIGTERM unwinds like
    # Ctrl-C, so the emulator process and open files are cleaned up rather than orphaned.
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    result = run_scenario(loaded, options)
    sys.exit(result.exit_code)


def _terminate_as_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _overrides(flags: dict[str, Any]) -> dict[str, Any]:
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
        key: flags[key] for key in ("endpoint_url", "region", "profile") if flags[key] is not None
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
    cost = {
        key: flags[flag]
        for key, flag in (("max_usd", "max_cost"), ("project_rps", "project_rps"))
        if flags[flag] is not None
    }
    if flags["cloudwatch"]:
        overrides["cloudwatch"] = {"enabled": True}
    if flags["allow_unpriced"]:
        cost["allow_unpriced"] = True
    if cost:
        overrides["cost"] = cost
    return overrides


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--rates", help="The ladder, e.g. 1,2,5,10 (req/s); default: search for it.")
@click.option("--stage-duration", help="Measured time per stage, e.g. 30s (sweep.stage_duration).")
@click.option("--stage-warmup", help="Warmup before each stage, e.g. 5s (sweep.stage_warmup).")
@click.option("--start-rate", type=float, help="First rate of the search (sweep.start_rate).")
@click.option("--max-rate", type=float, help="Highest rate the search tries (sweep.max_rate).")
@click.option("--max-stages", type=int, help="Most stages per model (sweep.max_stages).")
@click.option("--quota-rpm", type=int, help="The account's requests per minute per model.")
@click.option("--quota-tpm", type=int, help="The account's tokens per minute per model.")
@click.option("--arrival", type=click.Choice(["constant", "poisson"]), help="Arrival process.")
@click.option("--model", "models", multiple=True, help="Model id; repeat to sweep several.")
@click.option("--endpoint-url", help="Send to this URL instead of the AWS endpoint.")
@click.option("--region", help="AWS region, e.g. us-east-1.")
@click.option("--profile", help="AWS named profile for credentials.")
@click.option("--emulate", is_flag=True, help="Start the built-in Bedrock emulator and use it.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Output folder.")
@click.option("--seed", type=int, help="Seed for arrivals and row order (default: random).")
@click.option(
    "--allow-unpriced", is_flag=True, help="Run models without a known price; cost is null."
)
@click.option("--skip-preflight", is_flag=True, help="Skip the check before the first stage.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@_friendly_errors
def sweep(scenario: Path, **flags: Any) -> None:
    """Find the highest rate each model of SCENARIO holds within its SLOs (docs/sweep.md)."""
    from loadgen.scenario import load_scenario
    from loadgen.sweep import SweepOptions
    from loadgen.sweep import sweep as run_sweep

    if flags["emulate"] and flags["endpoint_url"]:
        raise click.UsageError("--emulate starts its own endpoint: drop --endpoint-url or it")
    overrides = _sweep_overrides(flags)
    loaded = load_scenario(scenario, overrides)
    options = SweepOptions(
        out_dir=flags["out"],
        emulate=flags["emulate"],
        quiet=flags["quiet"],
        preflight=not flags["skip_preflight"],
        console=Console(width=None if sys.stdout.isatty() else 160),
    )
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    result = run_sweep(loaded, options)
    sys.exit(result.exit_code)


def _sweep_overrides(flags: dict[str, Any]) -> dict[str, Any]:
    run_flags = {
        **{key: None for key in ("rps", "duration", "requests", "warmup", "max_in_flight")},
        **{key: None for key in ("max_cost", "project_rps")},
        "cloudwatch": False,
        **flags,
    }
    overrides = _overrides(run_flags)
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


@main.command()
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Lay this scenario's pricing: section over the catalogue.",
)
@_friendly_errors
def prices(scenario_path: Path | None) -> None:
    """List the pricing catalogue (USD per 1M tokens, with sources and dates)."""
    from loadgen.pricing import PriceBook, render_price_table
    from loadgen.scenario import load_scenario

    book = PriceBook.builtin()
    if scenario_path is not None:
        book = book.with_overrides(load_scenario(scenario_path).pricing)
    Console(width=None if sys.stdout.isatty() else 160).print(render_price_table(book))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=0, show_default=True, help="Port; 0 picks a free one.")
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="YAML or JSON file of emulator profiles.",
)
@_friendly_errors
def emulate(host: str, port: int, config: Path | None) -> None:
    """Serve the Bedrock emulator until Ctrl-C."""
    import yaml
    from pydantic import ValidationError

    from loadgen.emulator import EmulatorConfig, serve
    from loadgen.errors import ConfigError

    try:
        emulator_config = EmulatorConfig.from_file(config) if config else EmulatorConfig.builtin()
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(problems, str(config)) from None
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError([f"cannot read it: {exc}"], str(config)) from None
    serve(host, port, emulator_config)


if __name__ == "__main__":
    main()
