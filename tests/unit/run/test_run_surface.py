"""loadgen.run is the library's entry: its public names are pinned, and the CLI's commands
share their common options by definition rather than by copy."""

from __future__ import annotations

import click

import loadgen.run
from loadgen.cli import main


def test_the_run_module_exports_what_callers_import() -> None:
    assert sorted(loadgen.run.__all__) == [
        "EXIT_ABORTED",
        "EXIT_CLOUDWATCH",
        "EXIT_INTERRUPTED",
        "EXIT_OK",
        "EXIT_THRESHOLDS",
        "RunOptions",
        "RunResult",
        "run",
        "run_async",
    ]
    for name in loadgen.run.__all__:
        assert getattr(loadgen.run, name) is not None
    assert (loadgen.run.EXIT_ABORTED, loadgen.run.EXIT_THRESHOLDS) == (3, 99)
    assert (loadgen.run.EXIT_CLOUDWATCH, loadgen.run.EXIT_INTERRUPTED) == (5, 130)


def _options(command: str) -> dict[str, tuple[tuple[str, ...], str | None]]:
    return {
        param.name: (tuple(param.opts), param.help)
        for param in main.commands[command].params
        if isinstance(param, click.Option) and param.name
    }


def test_run_and_sweep_take_the_shared_options_with_the_same_help() -> None:
    run, sweep = _options("run"), _options("sweep")
    shared = ["endpoint_url", "region", "profile", "emulate", "out", "seed", "allow_unpriced"]
    for name in [*shared, "quiet"]:
        assert run[name] == sweep[name], name
    assert _options("merge")["quiet"] == _options("compare")["quiet"] == run["quiet"]
