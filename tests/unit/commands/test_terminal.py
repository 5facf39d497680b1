"""How commands meet a terminal, or a pipe: tables sized for the one, plain text for the other."""

from __future__ import annotations

import io
import sys

import pytest
from rich.table import Table

from loadgen.commands.terminal import UNBOUNDED_WIDTH, TrimmedLines, terminal_console


def test_trimmed_lines_drop_trailing_spaces_even_across_writes() -> None:
    out = io.StringIO()
    stream = TrimmedLines(out)
    stream.write("title   \nrow  1  ")
    stream.write("  2   ")  # the spaces held back were not the line's end after all
    stream.write("\n\nlast ")
    assert out.getvalue() == "title\nrow  1    2\n\nlast"


def test_a_pipe_gets_plain_unpadded_tables_at_their_natural_width(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    screen = io.StringIO()
    monkeypatch.setattr(sys, "stdout", screen)  # not a terminal
    monkeypatch.delenv("COLUMNS", raising=False)
    console = terminal_console()
    assert not console.is_terminal
    assert console.width == UNBOUNDED_WIDTH
    table = Table(title="a title longer than the table", title_justify="left")
    table.add_column("model")
    table.add_column("figure " * 30)  # wider than the 160 columns logs used to get
    table.add_row("m", "1,234.5")
    console.print(table)
    lines = screen.getvalue().splitlines()
    assert [line for line in lines if line != line.rstrip()] == []
    assert "\x1b[" not in screen.getvalue()
    assert "…" not in screen.getvalue()
    assert max(map(len, lines)) > 160
    monkeypatch.setenv("COLUMNS", "100")  # asked for: kept
    assert terminal_console().width == 100
    assert terminal_console(wide=True).width == UNBOUNDED_WIDTH
