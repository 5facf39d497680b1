"""`loadgen plan`: from saved runs or a sweep and a target load, each model's quota to request
and monthly bill by every way Bedrock sells it (docs/plan.md)."""

from __future__ import annotations

from pathlib import Path

import click

from loadgen.commands.options import wide_option
from loadgen.commands.terminal import friendly_errors, terminal_console


@click.command("plan")
@click.argument(
    "sources", metavar="RUN_OR_SWEEP...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@click.option("--peak-rps", type=float, help="Requests per second at peak, per model.")
@click.option(
    "--peak-tpm",
    type=float,
    help="Or tokens per minute at peak, per model (input of every kind and output).",
)
@click.option(
    "--hours-per-day",
    type=float,
    default=24.0,
    show_default=True,
    help="Hours a day at peak; no load outside them.",
)
@click.option(
    "--days-per-month",
    type=float,
    help="Days a month with load [default: 730 h / 24 = 30.42].",
)
@click.option(
    "--deferrable-share",
    type=float,
    default=0.0,
    show_default=True,
    help="Share of requests that can wait: planned as batch jobs.",
)
@click.option(
    "--hours-per-month",
    type=float,
    default=730.0,
    show_default=True,
    help="Hours a committed Provisioned Throughput is billed a month.",
)
@click.option(
    "--quota",
    "quotas",
    multiple=True,
    metavar="[MODEL:]tpm=N,tpd=N,rpm=N",
    help="The account's quota to check the need against (repeatable; default: the quota "
    "the runs were measured against).",
)
@click.option(
    "--model-unit-tpm",
    "model_units",
    multiple=True,
    metavar="[MODEL=]IN[/OUT]",
    help="Tokens per minute one Provisioned Throughput model unit processes, input and output "
    "(your account's figure; default 100000/10000, docs/plan.md).",
)
@click.option("--region", help="Price in this region [default: the runs' region].")
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    help="What each request reserves, where a run did not record it.",
)
@click.option(
    "--prices",
    "prices_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Quotes laid over the catalogue: Provisioned Throughput, Reserved tier (docs/pricing.md).",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Folder for plan.json and plan.html.",
)
@click.option("--no-html", is_flag=True, help="Write plan.json only.")
@wide_option
@friendly_errors
def plan_command(
    sources: tuple[Path, ...],
    peak_rps: float | None,
    peak_tpm: float | None,
    hours_per_day: float,
    days_per_month: float | None,
    deferrable_share: float,
    hours_per_month: float,
    quotas: tuple[str, ...],
    model_units: tuple[str, ...],
    region: str | None,
    max_tokens: int | None,
    prices_path: Path | None,
    out_dir: Path,
    no_html: bool,
    wide: bool,
) -> None:
    """Plan capacity and cost for a target load from saved RUN folders or a SWEEP folder: the
    quota to request, the monthly bill on demand by tier, with batch, Provisioned Throughput
    and the Reserved tier, and where each breaks even."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    from loadgen.core.atomic_file import write_text_atomically
    from loadgen.planning.console import print_plan
    from loadgen.planning.document import PlanRequest, make_plan
    from loadgen.planning.page import render_plan
    from loadgen.planning.target import DAYS_PER_MONTH, Target, parse_model_units, parse_quotas
    from loadgen.report.build import write_json_atomically

    target = Target(
        peak_rps=peak_rps,
        peak_tpm=peak_tpm,
        hours_per_day=hours_per_day,
        days_per_month=DAYS_PER_MONTH if days_per_month is None else days_per_month,
        deferrable_share=deferrable_share,
        hours_per_month=hours_per_month,
    )
    every_unit, units_by_model = parse_model_units(model_units)
    every_quota, quota_by_model = parse_quotas(quotas)
    plan = make_plan(
        PlanRequest(
            sources=sources,
            target=target,
            region=region,
            max_tokens=max_tokens,
            units=every_unit,
            units_by_model=units_by_model,
            quota=every_quota,
            quota_by_model=quota_by_model,
            prices_path=prices_path,
        )
    )
    console = terminal_console(wide)
    print_plan(plan.document, console)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomically(out_dir / "plan.json", plan.document)
    console.print(f"plan: {out_dir / 'plan.json'}")
    if not no_html:
        write_text_atomically(out_dir / "plan.html", render_plan(plan))
        console.print(f"plan: {out_dir / 'plan.html'}")
