"""Tables that fit the terminal they are printed on, with every figure whole.

rich shrinks a table wider than the console by cutting cells ("3…"), numbers included, and a
model id of 45 characters leaves little room for numbers at 80 columns. So a table here is
laid out before rich sees it: its value columns are packed into as few tables as fit the
width, each repeating the key columns (the model), and long model ids are replaced by short
names that a legend maps back (`short_names`). A console wide enough (`--wide`, or plain text
into a file or pipe, loadgen/commands/terminal.py) gets one table with the full ids.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich import box
from rich.console import Console, JustifyMethod
from rich.table import Table

# Short names longer than this are no help: numbered names (m1, m2, ...) are used instead.
SHORT_NAME_MAX = 24
# Leading id segments that name a region or a provider ("us.", "anthropic."), not the model.
_PREFIX = re.compile(r"^[a-z][a-z-]*$")
_DATE = re.compile(r"-\d{8}")
_VERSION = re.compile(r"-v\d+$")


@dataclass(frozen=True)
class Column:
    """One column: a header ("\\n" starts its second line) and how its cells sit."""

    header: str
    justify: JustifyMethod = "right"
    style: str = ""


def short_name(model: str) -> str:
    """A readable short form of a model id: "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
    → "claude-3-7-sonnet"; an id without such parts is kept as it is."""
    segments = model.split(":", 1)[0].split(".")
    while len(segments) > 1 and _PREFIX.match(segments[0]):
        segments.pop(0)
    name = _VERSION.sub("", _DATE.sub("", ".".join(segments)))
    return name or model


def short_names(models: Sequence[str]) -> dict[str, str]:
    """Each model's short name: `short_name` when those are distinct and short, else m1,
    m2, ... in the order given."""
    names = {model: short_name(model) for model in models}
    distinct = len(set(names.values())) == len(names)
    if distinct and all(len(name) <= SHORT_NAME_MAX for name in names.values()):
        return names
    return {model: f"m{number}" for number, model in enumerate(models, start=1)}


def legend(names: Mapping[str, str]) -> str | None:
    """ "short = full id" for each renamed model; None when no name was shortened."""
    renamed = [f"{short} = {model}" for model, short in names.items() if short != model]
    return "models: " + ", ".join(renamed) if renamed else None


def fitted_tables(
    title: str | None,
    keys: Sequence[Column],
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    width: int,
) -> list[Table]:
    """The table split by columns into as few tables as fit `width`, each with the key
    columns first; a row is its key cells, then one cell per column (rich markup allowed).
    A single value column wider than `width` still gets a table of its own."""
    groups: list[list[int]] = []
    for index in range(len(columns)):
        if groups and natural_width(_table(None, keys, columns, rows, [*groups[-1], index])) <= (
            width
        ):
            groups[-1].append(index)
        else:
            groups.append([index])
    return [
        _table(title if number == 0 else None, keys, columns, rows, group)
        for number, group in enumerate(groups)
    ]


def fits(
    keys: Sequence[Column], columns: Sequence[Column], rows: Sequence[Sequence[str]], width: int
) -> bool:
    """Whether the whole table fits `width` as one."""
    return natural_width(_table(None, keys, columns, rows, list(range(len(columns))))) <= width


def natural_width(table: Table) -> int:
    """The width the table takes when nothing constrains it (its title aside)."""
    scratch = Console(width=100_000, file=io.StringIO(), color_system=None, legacy_windows=False)
    return scratch.measure(table).maximum


def _table(
    title: str | None,
    keys: Sequence[Column],
    columns: Sequence[Column],
    rows: Sequence[Sequence[str]],
    chosen: Sequence[int],
) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        title_style="bold",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        show_edge=False,
    )
    for column in [*keys, *(columns[i] for i in chosen)]:
        table.add_column(column.header, justify=column.justify, style=column.style, no_wrap=True)
    for row in rows:
        cells = list(row[: len(keys)])
        cells += [row[len(keys) + i] for i in chosen]
        table.add_row(*cells)
    return table
