"""`loadgen prices`: the pricing catalogue, with a scenario's own prices or a file of quotes laid
over it: each price's source and the date it was checked, a warning for those older than
--max-age, each model's place in AWS's model lifecycle (active, legacy, end of life) with a
warning for the last two, and (--model) one model's every way of being bought."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from loadgen.commands.options import wide_option
from loadgen.commands.terminal import friendly_errors, terminal_console

if TYPE_CHECKING:  # imported when the command runs (loadgen/commands/__init__.py)
    from rich.console import Console

    from loadgen.cost.lifecycle import LifecycleBook
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
    """List the pricing catalogue (USD per 1M tokens), with sources, dates, ages and each
    model's lifecycle status (active, legacy, end of life)."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    from loadgen.config.scenario import PRICE_MAX_AGE_DAYS, load_scenario
    from loadgen.core.errors import ConfigError
    from loadgen.cost.lifecycle import LifecycleBook
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
            _print_lifecycle(model, console)
    listing = price_listing(book, today_utc(), max_age_days, _catalogue_ids(book, model_ids))
    lifecycle = LifecycleBook.builtin()
    _print_listing(listing, lifecycle, console)
    _warn_lifecycle(listing, lifecycle, console, detailed=bool(model_ids))
    if not model_ids:
        _print_unpriced(book, lifecycle, console)
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


def _print_listing(listing: PriceListing, lifecycle: LifecycleBook, console: Console) -> None:
    from rich.text import Text

    from loadgen.cost.price_age import today_utc
    from loadgen.report.fit import Column, fits, fitted_tables, legend, short_names

    keys = [Column("model", "left"), Column("region", "left")]
    columns = [Column("status", "left")] + [Column(header) for header in listing.headers[2:]]
    today = today_utc()
    status_rows = [
        [*row[:2], _status_cell(lifecycle, row[0], today), *row[2:]] for row in listing.rows
    ]
    models = sorted({row[0] for row in listing.rows})
    # Full ids when the whole table fits; otherwise short names, which a legend maps back.
    names = {model: model for model in models}
    if not fits(keys, columns, status_rows, console.width):
        names = short_names(models)
    rows = [[names[row[0]], *row[1:]] for row in status_rows]
    title = "Bedrock prices, USD per 1M tokens (standard on-demand; --model for the rest)"
    for table in fitted_tables(title, keys, columns, rows, console.width):
        console.print(table)
    if (names_legend := legend(names)) is not None:
        console.print(Text(names_legend, style="dim"))
    console.print(
        Text(
            "also: prio/flex = priority/flex tiers, lat-opt = latency-optimised, "
            "PT = Provisioned Throughput, rsv = Reserved tier; status: AWS's model lifecycle "
            "(EOL = end of life)",
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


# How the listing's status column shows each lifecycle status ("-": not in lifecycle.yaml).
STATUS_CELLS = {
    "active": "active",
    "legacy": "[yellow]legacy[/yellow]",
    "end_of_life": "[red]EOL[/red]",
}


def _status_cell(lifecycle: LifecycleBook, model_id: str, today: date) -> str:
    found = lifecycle.resolve(model_id, today)
    return "-" if found is None else STATUS_CELLS[found.status.value]


def _warn_lifecycle(
    listing: PriceListing, lifecycle: LifecycleBook, console: Console, detailed: bool
) -> None:
    """A warning for the legacy and end-of-life models listed: each in full for --model, one
    count line for the whole catalogue (the status column says which)."""
    from loadgen.cost.lifecycle import Status
    from loadgen.cost.price_age import today_utc

    today = today_utc()
    found = [lifecycle.resolve(model, today) for model in dict.fromkeys(r[0] for r in listing.rows)]
    # One line per model: a global. profile and its base model share one lifecycle.
    flagged = list(
        {
            f.catalogue_id: f for f in found if f is not None and f.status is not Status.ACTIVE
        }.values()
    )
    if not flagged:
        return
    if detailed:
        for model in flagged:
            console.print(f"warning: {model.warning()}", style="yellow", markup=False)
        return
    ended = sum(model.status is Status.END_OF_LIFE for model in flagged)
    console.print(
        f"[yellow]warning: {ended} model(s) past their end of life on Bedrock (EOL: requests "
        f"to them fail on AWS) and {len(flagged) - ended} legacy (status column); "
        "`loadgen prices --model ID` gives the dates and sources (docs/pricing.md)[/yellow]"
    )


def _print_lifecycle(model_id: str, console: Console) -> None:
    """One model's lifecycle under its prices: status, dates, successor and source."""
    from rich.text import Text

    from loadgen.cost.lifecycle import LifecycleBook
    from loadgen.cost.price_age import today_utc

    found = LifecycleBook.builtin().resolve(model_id, today_utc())
    if found is None:
        console.print(Text(f"lifecycle: {model_id} is not in loadgen's lifecycle catalogue"))
        return
    entry = found.entry
    dates = [
        f"{label} {day.isoformat()}"
        for label, day in (
            ("legacy", entry.legacy_date),
            ("public extended access", entry.extended_access_date),
            ("end of life", entry.end_of_life_date),
        )
        if day is not None
    ]
    successor = (
        f"; successor: {entry.successor}"
        if entry.successor
        else "; the lifecycle page names no successor"
    )
    console.print(
        Text(
            f"lifecycle: {found.status.value.replace('_', ' ')}"
            + (f" ({', '.join(dates)})" if dates else "")
            + (successor if found.status.value != "active" else "")
            + f"; source: {found.source}"
        )
    )
    if entry.note:
        console.print(Text(f"lifecycle note: {entry.note}"))
    console.print()


def _print_unpriced(book: PriceBook, lifecycle: LifecycleBook, console: Console) -> None:
    """The lifecycle catalogue's models that have no sourced price, so that a missing row
    reads as "no source found", not as "forgotten"."""
    from rich.text import Text

    unpriced = [
        m for m, entry in lifecycle.models.items() if not entry.priced and m not in book.models
    ]
    if unpriced:
        console.print(
            Text(
                f"not priced (no sourced price; lifecycle notes say why): {', '.join(unpriced)}",
                style="dim",
            )
        )
