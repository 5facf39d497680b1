"""`loadgen emulate`: the Bedrock emulator alone, in the foreground."""

from __future__ import annotations

from pathlib import Path

import click

from loadgen.commands.terminal import friendly_errors


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port; 0 picks a free one.",
)
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
@click.option("--tpd", type=click.IntRange(min=1), help="Tokens-per-day quota for every model.")
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
@friendly_errors
def emulate(
    host: str,
    port: int,
    config: Path | None,
    seed: int | None,
    rpm: int | None,
    tpm: int | None,
    tpd: int | None,
    no_quotas: bool,
    slots: int | None,
    queue_limit: int | None,
    faults: tuple[str, ...],
    log_path: Path | None,
) -> None:
    """Serve the Bedrock emulator (and OpenAI chat completions) until Ctrl-C."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    import yaml
    from pydantic import ValidationError

    from loadgen.core.errors import ConfigError, PreflightError
    from loadgen.emulator import EmulatorConfig, serve
    from loadgen.emulator.overrides import apply_overrides
    from loadgen.emulator.server import EmulatorBindError

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
            tpd=tpd,
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
    try:
        serve(host, port, emulator_config, log_path=log_path)
    except EmulatorBindError as exc:  # the port is in use, or the host not this machine's
        raise PreflightError(str(exc)) from None
