"""`loadgen prices`: the pricing catalogue, with a scenario's own prices laid over it."""

from __future__ import annotations

from pathlib import Path

import click

from loadgen.commands.terminal import friendly_errors, terminal_console


@click.command()
@click.option(
    "--scenario",
    "scenario_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Lay this scenario's pricing: section over the catalogue.",
)
@friendly_errors
def prices(scenario_path: Path | None) -> None:
    """List the pricing catalogue (USD per 1M tokens, with sources and dates)."""
    # The library, loaded when the command runs (loadgen/commands/__init__.py).
    from loadgen.config.scenario import load_scenario
    from loadgen.cost.pricing import PriceBook, render_price_table

    book = PriceBook.builtin()
    if scenario_path is not None:
        book = book.with_overrides(load_scenario(scenario_path).pricing)
    terminal_console().print(render_price_table(book))
