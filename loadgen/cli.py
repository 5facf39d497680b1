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
@click.option("--cloudwatch-endpoint-url", help="CloudWatch endpoint (e.g. a local moto server).")
@click.option("--cloudwatch-region", help="CloudWatch region (default: the target's).")
@click.option("--cloudwatch-profile", help="AWS profile for CloudWatch (default: --profile).")
@click.option("--cloudwatch-interval", help="Publish every D, e.g. 10s (cloudwatch.interval).")
@click.option(
    "--dashboard", is_flag=True, help="Put the scenario's dashboard (implies --cloudwatch)."
)
@click.option("--alarms", is_flag=True, help="Put thresholds as alarms (implies --cloudwatch).")
@click.option("--sns-topic", help="SNS topic ARN the alarms notify (cloudwatch.alarm_topic).")
@click.option("--emf", help="Write the metrics as CloudWatch EMF lines to FILE ('-': stdout).")
@click.option("--dry-run", is_flag=True, help="Print the CloudWatch calls instead of making them.")
@click.option("--require-cloudwatch", is_flag=True, help="Exit 5 when anything was not published.")
@click.option("--max-cost", type=float, help="Budget in USD: stop sending before passing it.")
@click.option("--project-rps", type=float, help="Also project the bill at this request rate.")
@click.option(
    "--allow-unpriced", is_flag=True, help="Run models without a known price; cost is null."
)
@click.option(
    "--skip-preflight", is_flag=True, help="Skip the one-call-per-model check before load."
)
@click.option(
    "--no-quality", is_flag=True, help="Skip scoring the responses' quality (docs/quality.md)."
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@click.option("--no-html", is_flag=True, help="Do not write report.html beside report.json.")
@click.option(
    "--workers",
    type=int,
    help="Worker processes sharing the load (default: one per 100 req/s, up to the cores).",
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
@_friendly_errors
def run(scenario: Path, **flags: Any) -> None:
    """Run SCENARIO (a YAML file) and write report.json, report.html and samples.jsonl."""
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
        html=not flags["no_html"],
        quality=not flags["no_quality"],
        # Logs and CI capture are not terminals: give the table room rather than wrap it.
        console=Console(width=None if sys.stdout.isatty() else 160),
        emf=flags["emf"],
        cloudwatch_dry_run=flags["dry_run"],
        require_cloudwatch=flags["require_cloudwatch"],
    )
    # Until the run installs its own handlers (and after it removes them), SIGTERM unwinds like
    # Ctrl-C, so the emulator process and open files are cleaned up rather than orphaned.
    signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    from loadgen.workers import check_workers, run_with_workers, workers_for

    if flags["ray_address"] is not None:
        from loadgen.ray_workers import run_with_ray

        ray_result = run_with_ray(loaded, options, flags["ray_address"] or None, flags["workers"])
        sys.exit(ray_result.exit_code)
    workers = flags["workers"] if flags["workers"] is not None else workers_for(loaded)
    check_workers(loaded, workers)
    if workers > 1:
        result = run_with_workers(loaded, options, workers)
    else:
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


def _plain_default(param: click.Parameter) -> Any:
    """A flag's default as the command would receive it (click marks "none given" with a
    sentinel object in recent versions)."""
    value = param.default
    return value if isinstance(value, bool | int | float | str | tuple | list) else None


def _sweep_overrides(flags: dict[str, Any]) -> dict[str, Any]:
    # `run`'s flags that sweep does not take, at their defaults: one _overrides for both.
    run_flags = {
        **{param.name: _plain_default(param) for param in run.params if param.name},
        "models": (),
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


def _cloudwatch_command_options(function: F) -> F:
    """SCENARIO and where to send: the options `dashboard` and `alarms` share."""
    for option in reversed(
        (
            click.argument("scenario", type=click.Path(path_type=Path, dir_okay=False)),
            click.option(
                "--region", help="CloudWatch region (default: the scenario's, AWS_REGION)."
            ),
            click.option("--profile", help="AWS named profile for credentials."),
            click.option("--cloudwatch-endpoint-url", help="CloudWatch endpoint, e.g. moto."),
            click.option("--dry-run", is_flag=True, help="Print the calls instead of making them."),
        )
    ):
        function = option(function)
    return function


@main.command()
@_cloudwatch_command_options
@_friendly_errors
def dashboard(scenario: Path, **flags: Any) -> None:
    """Put SCENARIO's CloudWatch dashboard: its metrics and AWS/Bedrock's, per model."""
    import asyncio

    from loadgen.cloudwatch_run import command_target, dashboard_for
    from loadgen.cloudwatch_setup import put_dashboard
    from loadgen.scenario import load_scenario

    loaded = load_scenario(scenario)
    target = command_target(
        loaded,
        region=flags["region"],
        profile=flags["profile"],
        endpoint_url=flags["cloudwatch_endpoint_url"],
        dry_run=flags["dry_run"],
    )
    name, body = dashboard_for(loaded, target.region or "us-east-1")
    out = sys.stdout if flags["dry_run"] else None
    messages = asyncio.run(put_dashboard(target, name, body, out))
    for message in messages:
        click.echo(f"CloudWatch: {message}", err=True)
    if not flags["dry_run"]:
        click.echo(f"dashboard {name} put in {target.region}: {len(body['widgets'])} widgets")


@main.command()
@_cloudwatch_command_options
@click.option("--sns-topic", help="SNS topic ARN to notify (default: cloudwatch.alarm_topic).")
@_friendly_errors
def alarms(scenario: Path, **flags: Any) -> None:
    """Put SCENARIO's thresholds as CloudWatch alarms, one per threshold and model."""
    import asyncio

    from loadgen.cloudwatch_run import alarms_for, command_target
    from loadgen.cloudwatch_setup import put_alarms
    from loadgen.errors import ConfigError
    from loadgen.scenario import load_scenario

    overrides = {"cloudwatch": {"alarm_topic": flags["sns_topic"]}} if flags["sns_topic"] else {}
    loaded = load_scenario(scenario, overrides)
    if not loaded.thresholds:
        raise ConfigError(["no thresholds: to make alarms, add a thresholds: list"], str(scenario))
    target = command_target(
        loaded,
        region=flags["region"],
        profile=flags["profile"],
        endpoint_url=flags["cloudwatch_endpoint_url"],
        dry_run=flags["dry_run"],
    )
    requests, refused = alarms_for(loaded)
    for refusal in refused:
        click.echo(str(refusal), err=True)
    out = sys.stdout if flags["dry_run"] else None
    put = asyncio.run(put_alarms(target, requests, out))
    if not flags["dry_run"]:
        for request in requests:
            click.echo(request["AlarmName"])
        click.echo(f"{put} alarms put in {target.region}; {len(refused)} thresholds refused")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=0, show_default=True, help="Port; 0 picks a free one.")
@click.option(
    "--config",
    "--profile-file",
    "config",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="YAML or JSON file of emulator profiles (default: the built-in estimates).",
)
@click.option("--seed", type=int, help="Seed for jitter, lengths and faults.")
@click.option(
    "--rpm", type=click.IntRange(min=1), help="Requests-per-minute quota for every model."
)
@click.option("--tpm", type=click.IntRange(min=1), help="Tokens-per-minute quota for every model.")
@click.option("--no-quotas", is_flag=True, help="Enforce no quotas at all.")
@click.option(
    "--slots",
    type=click.IntRange(min=1),
    help="Concurrent requests each model serves; more queue.",
)
@click.option(
    "--queue-limit", type=click.IntRange(min=0), help="Waiting requests per model before 503."
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="KIND=RATE",
    help="Inject a fault in this share of requests, every model (repeatable).",
)
@click.option(
    "--log",
    "log_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write one JSON line per request: what was planned and injected.",
)
@_friendly_errors
def emulate(
    host: str,
    port: int,
    config: Path | None,
    seed: int | None,
    rpm: int | None,
    tpm: int | None,
    no_quotas: bool,
    slots: int | None,
    queue_limit: int | None,
    faults: tuple[str, ...],
    log_path: Path | None,
) -> None:
    """Serve the Bedrock emulator (and OpenAI chat completions) until Ctrl-C."""
    import yaml
    from pydantic import ValidationError

    from loadgen.emulator import EmulatorConfig, serve
    from loadgen.emulator.overrides import apply_overrides
    from loadgen.errors import ConfigError

    try:
        emulator_config = EmulatorConfig.from_file(config) if config else EmulatorConfig.builtin()
    except ValidationError as exc:
        problems = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(problems, str(config)) from None
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError([f"cannot read it: {exc}"], str(config)) from None
    try:
        emulator_config = apply_overrides(
            emulator_config,
            seed=seed,
            rpm=rpm,
            tpm=tpm,
            quotas=not no_quotas,
            slots=slots,
            queue_limit=queue_limit,
            faults=faults,
        )
    except ValidationError as exc:  # the flags' ranges are checked by click: --fault rates
        problems = sorted({f"--fault: {e['msg']}" for e in exc.errors()})
        raise ConfigError(problems, "the command line") from None
    except ValueError as exc:
        raise ConfigError([f"--fault {exc}"], "the command line") from None
    if log_path is not None:
        try:
            log_path.open("a", encoding="utf-8").close()
        except OSError as exc:
            raise ConfigError([f"--log: cannot write it: {exc}"], str(log_path)) from None
    serve(host, port, emulator_config, log_path=log_path)


@main.command()
@click.argument("run_path", metavar="RUN", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print report.json instead of the tables.")
@click.option("--html", is_flag=True, help="Also build report.html again beside report.json.")
@_friendly_errors
def report(run_path: Path, as_json: bool, html: bool) -> None:
    """Print the summary of a finished RUN (its folder or report.json) from its saved files."""
    import json

    from loadgen.console import print_summary
    from loadgen.saved_run import load_run

    saved = load_run(run_path)
    if as_json:
        click.echo(json.dumps(saved.report, indent=2))
    else:
        print_summary(saved.report, Console(width=None if sys.stdout.isatty() else 160))
    if html:
        _write_html(saved.report, saved.report_path.parent)


def _write_html(report: dict[str, Any], folder: Path) -> None:
    """report.html from a report already on disk; a failure is an error here (exit 1 is a bug)."""
    from loadgen.html_report import render, write_html

    path = write_html(render(report), folder / "report.html")
    click.echo(f"report: {path}", err=True)


@main.command()
@click.argument("runs", metavar="RUN...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder for the merged report.json and samples.jsonl.",
)
@click.option("--force", is_flag=True, help="Merge runs of different scenarios or schemas.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@_friendly_errors
def merge(runs: tuple[Path, ...], out: Path, force: bool, quiet: bool) -> None:
    """Merge runs made side by side (several processes or machines) into one report."""
    from loadgen.console import print_summary
    from loadgen.merge import merge_runs
    from loadgen.saved_run import load_run

    merged = merge_runs([load_run(path) for path in runs], out, force=force)
    _write_html(merged, out)
    if not quiet:
        console = Console(width=None if sys.stdout.isatty() else 160)
        print_summary(merged, console)
        console.print(f"report: {out / 'report.json'}")


@main.command()
@click.argument("base", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option(
    "--min-effect",
    type=float,
    default=5.0,
    show_default=True,
    help="Smallest change, in %, that can count as a regression.",
)
@click.option(
    "--min-effect-ms",
    type=float,
    default=1.0,
    show_default=True,
    help="Smallest latency change, in ms, that can count.",
)
@click.option("--confidence", type=float, default=0.95, show_default=True, help="Of the interval.")
@click.option("--alpha", type=float, default=0.05, show_default=True, help="For error rates.")
@click.option("--resamples", type=int, default=1000, show_default=True, help="Bootstrap draws.")
@click.option("--seed", type=int, default=0, show_default=True, help="Bootstrap seed.")
@click.option("--min-samples", type=int, default=20, show_default=True, help="Fewer: not tested.")
@click.option(
    "--json",
    "json_out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the comparison as JSON here.",
)
@click.option(
    "--html",
    "html_out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write an HTML page comparing the two runs here.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
@_friendly_errors
def compare(
    base: Path,
    new: Path,
    json_out: Path | None,
    html_out: Path | None,
    quiet: bool,
    **method: Any,
) -> None:
    """Compare run NEW with run BASE (folders or report.json); exit 4 on a regression."""
    from loadgen.compare import CompareOptions, compare_reports, print_comparison
    from loadgen.report import write_json_atomically
    from loadgen.saved_run import load_run

    options = CompareOptions(**{**method, "min_effect": method["min_effect"] / 100})
    base_run, new_run = load_run(base), load_run(new)
    comparison = compare_reports(
        base_run.report, new_run.report, options, labels=(base_run.label, new_run.label)
    )
    if json_out is not None:
        write_json_atomically(json_out, comparison.to_json())
    if html_out is not None:
        from loadgen.html_report import render_comparison, write_html

        write_html(render_comparison(base_run.report, new_run.report), html_out)
    if not quiet:
        print_comparison(comparison, Console(width=None if sys.stdout.isatty() else 160))
    sys.exit(comparison.exit_code)


if __name__ == "__main__":
    main()
