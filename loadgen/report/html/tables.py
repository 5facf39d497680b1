"""Any part of a report as HTML tables: numbers formatted for reading, nothing left out.

The HTML report shows every figure of report.json, including sections added by later
versions or other commands (quality, verdict, sweep) whose shape this module does not know:
maps become key/value tables, maps of like maps become matrices, lists of maps become tables.
"""

from __future__ import annotations

import math
from typing import Any

from markupsafe import Markup, escape

MAX_LIST_ITEMS = 60  # longer lists of numbers (series) are shortened in the tables
MISSING = "\u2013"  # an en dash: nothing measured


def fmt(value: Any) -> str:
    """A figure as a person reads it: thousands separated, about four significant digits."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value != value:  # NaN
            return MISSING
        if value == 0:
            return "0"
        if abs(value) >= 1000:
            return f"{value:,.1f}"
        if abs(value) < 1e-4:  # where :g turns to 1.2e-05: four figures, written out
            decimals = 3 - math.floor(math.log10(abs(value)))
            return f"{value:.{decimals}f}".rstrip("0")
        return f"{value:.4g}"
    return str(value)


def percent(value: Any) -> str:
    return MISSING if value is None else f"{value:.2%}"


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _cell(value: Any) -> Markup:
    if _is_scalar(value):
        css = (
            ' class="num"' if isinstance(value, int | float) and not isinstance(value, bool) else ""
        )
        return Markup("<td{}>{}</td>").format(Markup(css), fmt(value))
    return Markup("<td>{}</td>").format(table(value))


def _scalar_list(values: list[Any]) -> Markup:
    shown = ", ".join(fmt(v) for v in values[:MAX_LIST_ITEMS])
    more = len(values) - MAX_LIST_ITEMS
    if more > 0:
        shown += f", … ({more} more)"
    return Markup('<span class="list">[{}]</span>').format(shown)


def table(value: Any) -> Markup:
    """Render any JSON value as nested tables."""
    if _is_scalar(value):
        return escape(fmt(value))
    if isinstance(value, list):
        if not value:
            return Markup('<span class="muted">none</span>')
        if all(_is_scalar(v) for v in value):
            return _scalar_list(value)
        if all(isinstance(v, dict) for v in value):
            return _rows_table(value)
        return Markup("").join(Markup("<div>{}</div>").format(table(v)) for v in value)
    if isinstance(value, dict):
        if not value:
            return Markup('<span class="muted">none</span>')
        if _is_matrix(value):
            return _matrix(value)
        return Markup('<table class="kv">{}</table>').format(_kv_rows(value, ""))
    return escape(str(value))


def _kv_rows(value: dict[str, Any], prefix: str) -> Markup:
    """Key/value rows; a nested map that is not a matrix is flattened ("errors · server").

    Entries that are maps of scalars with the same keys (quality's score, coverage, ... each
    with mean/p10/p50) are shown together as one matrix first."""
    alike = _alike_entries(value)
    rows = []
    if alike:
        rows.append(
            Markup('<tr><td colspan="2">{}</td></tr>').format(
                _matrix({f"{prefix}{k}": value[k] for k in alike})
            )
        )
    for key, item in value.items():
        if key in alike:
            continue
        name = f"{prefix}{key}"
        if isinstance(item, dict) and item and not _is_matrix(item):
            rows.append(_kv_rows(item, f"{name} · "))
        else:
            rows.append(Markup("<tr><th>{}</th>{}</tr>").format(name, _cell(item)))
    return Markup("").join(rows)


def _alike_entries(value: dict[str, Any]) -> list[str]:
    """Keys of the entries that are non-empty maps of scalars sharing one key set (at least
    two of them), when they are not the whole map (that is a matrix already)."""
    shapes: dict[tuple[str, ...], list[str]] = {}
    for key, item in value.items():
        if isinstance(item, dict) and item and all(_is_scalar(v) for v in item.values()):
            shapes.setdefault(tuple(item), []).append(key)
    best = max(shapes.values(), key=len, default=[])
    return best if 2 <= len(best) < len(value) else []


def _is_matrix(value: dict[str, Any]) -> bool:
    """A map of maps whose values are all scalars, sharing their keys: one row each."""
    items = list(value.values())
    if len(items) < 2 or not all(isinstance(v, dict) and v for v in items):
        return False
    keys = list(items[0])
    return all(list(v) == keys and all(_is_scalar(x) for x in v.values()) for v in items)


def _matrix(value: dict[str, dict[str, Any]]) -> Markup:
    columns = list(next(iter(value.values())))
    head = Markup("").join(Markup("<th>{}</th>").format(c) for c in ["", *columns])
    body = Markup("").join(
        Markup("<tr><th>{}</th>{}</tr>").format(
            key, Markup("").join(_cell(row[c]) for c in columns)
        )
        for key, row in value.items()
    )
    return Markup('<table class="grid"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>').format(
        head, body
    )


def _rows_table(rows: list[dict[str, Any]]) -> Markup:
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    head = Markup("").join(Markup("<th>{}</th>").format(c) for c in columns)
    body = Markup("").join(
        Markup("<tr>{}</tr>").format(Markup("").join(_cell(row.get(c)) for c in columns))
        for row in rows
    )
    return Markup('<table class="grid"><thead><tr>{}</tr></thead><tbody>{}</tbody></table>').format(
        head, body
    )
