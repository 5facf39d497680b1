"""`loadgen prices`: the pricing catalogue, with a scenario's own prices or a file of quotes laid
over it: each price's source and the date it was checked, a warning for those older than
--max-age, and (--model) one model's every way of being bought."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from loadgen.commands.options import wide_option
from loadgen.commands.terminal import friendly_errors, terminal_console

if TYPE_CHECKING:  # imported when the command runs (loadgen/commands/__init__.py)
    from rich.console import Console

    from loadgen.cost.pricing import PriceBook, PriceListing


@click.command()
@click.option(
    "--model",
    "model_ids",
    multiple=True,
    metavar="ID",
    help="Show this model in full: every tier, batch, latency-optimised, Provisioned "
    "Throughput and Reserved prices, with sources (repeatable).",
)
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Lay this scenario's pricing: section over the catalogue.",
)
@click.option(
    "--prices",
    "prices_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Lay a file in the catalogue's format over it (quotes for Provisioned Throughput or "
    "the Reserved tier; docs/pricing.md).",
)
@click.option(
    "--max-age",
    "max_age_days",
    type=click.IntRange(min=0),
    help="Flag prices checked more than this many days ago (default 180; with --scenario, "
    "its cost.max_price_age_days).",
)
@wide_option
@friendly_errors
def prices(
    model_ids: tuple[str, ...],
    scenario_path: Path | None,
    prices_path: Path | None,
    max_age_days: int | None,
    wide: bool,
) -> None:
    """List the pricing catalogue (USD per 1M tokens), with sources, dates and ages."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    from loadgen.config.scenario import PRICE_MAX_AGE_DAYS, load_scenario
    from loadgen.core.errors import ConfigError
    from loadgen.cost.price_age import today_utc
    from loadgen.cost.pricing import PriceBook, price_details, price_listing

    book = PriceBook.builtin()
    if prices_path is not None:
        book = book.with_quotes(prices_path)
    if scenario_path is not None:
        scenario = load_scenario(scenario_path)
        book = book.with_overrides(scenario.pricing)
        if max_age_days is None:
            max_age_days = scenario.cost.max_price_age_days
    if max_age_days is None:
        max_age_days = PRICE_MAX_AGE_DAYS
    console = terminal_console(wide)
    if model_ids:
        unknown = [model for model in model_ids if not price_details(book, model)]
        if unknown:
            raise ConfigError([f"no price is known for {', '.join(unknown)}"], "--model")
        for model in model_ids:
            _print_details(book, model, console)
    listing = price_listing(book, today_utc(), max_age_days, _catalogue_ids(book, model_ids))
    _print_listing(listing, console)
    if listing.stale:
        console.print(
            f"[yellow]warning: {listing.stale} price(s) checked more than {max_age_days} days "
            "ago (marked old): prices change; check them against their source and give current "
            "ones in a scenario's pricing: section (docs/pricing.md)[/yellow]"
        )


def _catalogue_ids(book: PriceBook, model_ids: tuple[str, ...]) -> list[str] | None:
    from loadgen.cost.pricing import price_details

    if not model_ids:
        return None
    return [detail.catalogue_id for model in model_ids for detail in price_details(book, model)]


def _print_listing(listing: PriceListing, console: Console) -> None:
    from rich.text import Text

    from loadgen.report.fit import Column, fits, fitted_tables, legend, short_names

    keys = [Column("model", "left"), Column("region", "left")]
    columns = [Column(header) for header in listing.headers[2:]]
    models = sorted({row[0] for row in listing.rows})
    # Full ids when the whole table fits; otherwise short names, which a legend maps back.
    names = {model: model for model in models}
    if not fits(keys, columns, listing.rows, console.width):
        names = short_names(models)
    rows = [[names[row[0]], *row[1:]] for row in listing.rows]
    title = "Bedrock prices, USD per 1M tokens (standard on-demand; --model for the rest)"
    for table in fitted_tables(title, keys, columns, rows, console.width):
        console.print(table)
    if (names_legend := legend(names)) is not None:
        console.print(Text(names_legend, style="dim"))
    console.print(
        Text(
            "also: prio/flex = priority/flex tiers, lat-opt = latency-optimised, "
            "PT = Provisioned Throughput, rsv = Reserved tier",
            style="dim",
        )
    )
    console.print("sources:")
    for number, source in enumerate(listing.sources, start=1):
        console.print(f"  [{number}] {source}", markup=False, soft_wrap=True)


def _print_details(book: PriceBook, model: str, console: Console) -> None:
    from rich.text import Text

    from loadgen.cost.pricing import price_details
    from loadgen.report.fit import Column, fitted_tables

    for detail in price_details(book, model):
        title = f"{detail.catalogue_id} in {detail.region}"
        keys = [Column(detail.token_headers[0], "left")]
        columns = [Column(header) for header in detail.token_headers[1:]]
        for table in fitted_tables(title, keys, columns, detail.token_rows, console.width):
            console.print(table)
        for line in detail.lines:
            console.print(Text(line))
        console.print(Text("-: not offered, or no price known", style="dim"))
        console.print()
