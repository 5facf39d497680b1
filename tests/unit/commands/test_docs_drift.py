"""The docs say what the code does: `loadgen run --help` against docs/cli.md's flag table, and
every Markdown table in docs/ and the README whole (a header and its separator, no blank row
splitting it, no row left over)."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from loadgen.commands.run import run_command as run
from loadgen.scale.worker_count import RPS_PER_WORKER
from tests.helpers import REPO

CLI_DOC = REPO / "docs" / "cli.md"
MARKDOWN = [*sorted((REPO / "docs").glob("*.md")), REPO / "README.md"]
SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+$")


def _tables(path: Path) -> list[list[tuple[int, str]]]:
    """Each block of consecutive table lines outside code blocks, as (line number, text)."""
    tables: list[list[tuple[int, str]]] = []
    in_code = False
    previous_in_table = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            in_code = not in_code
        in_table = not in_code and line.startswith("|")
        if in_table and not previous_in_table:
            tables.append([])
        if in_table:
            tables[-1].append((number, line))
        previous_in_table = in_table
    return tables


def _run_flag_table() -> list[str]:
    """The rows of `loadgen run`'s flag table in docs/cli.md (the first table after its title)."""
    text = CLI_DOC.read_text(encoding="utf-8")
    section = text[text.index("## `loadgen run`") :]
    rows = []
    for line in section.splitlines()[1:]:
        if line.startswith("## "):
            break
        if line.startswith("|"):
            rows.append(line)
        elif rows and not line.strip():
            break
    return rows[2:]  # after the header and its separator


def _run_flags() -> list[str]:
    return [
        name
        for param in run.params
        if isinstance(param, click.Option) and not param.hidden
        for name in param.opts
        if name.startswith("--") and name != "--help"
    ]


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: p.name)
def test_every_table_starts_with_a_header_and_its_separator(path: Path) -> None:
    # A table split by a blank row, or a row left after a table, starts a block of its own
    # that has no separator: Markdown shows it as text.
    for table in _tables(path):
        first, text = table[0]
        assert len(table) > 1 and SEPARATOR.match(table[1][1]), (
            f"{path.name}:{first}: a table row outside a table (split by a blank row, or "
            f"orphaned): {text}"
        )


def test_every_run_flag_is_in_the_cli_doc_table_once() -> None:
    rows = _run_flag_table()
    documented = [re.findall(r"`(--[a-z0-9-]+)", row.split("|")[1]) for row in rows]
    flat = [flag for flags in documented for flag in flags]
    repeated = sorted({flag for flag in flat if flat.count(flag) > 1})
    assert not repeated, f"docs/cli.md lists these run flags more than once: {repeated}"
    missing = sorted(set(_run_flags()) - set(flat))
    assert not missing, f"`loadgen run` flags missing from docs/cli.md's table: {missing}"
    gone = sorted(set(flat) - set(_run_flags()))
    assert not gone, f"docs/cli.md documents run flags that do not exist: {gone}"


def test_the_workers_default_is_documented_as_the_code_has_it() -> None:
    (row,) = [row for row in _run_flag_table() if "`--workers" in row]
    assert f"one per {RPS_PER_WORKER:.0f} req/s" in row
    option = next(p for p in run.params if "--workers" in getattr(p, "opts", ()))
    assert f"one per {RPS_PER_WORKER:.0f} req/s" in (getattr(option, "help", "") or "")
