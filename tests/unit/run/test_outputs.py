"""What a finished run shows besides report.json: a page that cannot be made is said, not
raised, since report.json is already whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from loadgen.run.display import Display
from loadgen.run.outputs import finish_outputs


def test_a_report_that_cannot_be_rendered_says_why_without_raising(tmp_path: Path) -> None:
    console = Console(record=True, width=200)
    broken: Any = {"schema_version": 2}
    finish_outputs(broken, tmp_path, True, Display(console, quiet=True))
    assert not (tmp_path / "report.html").exists()
    said = console.export_text()
    assert "report.html could not be written (KeyError" in said
    assert "report.json is complete" in said
