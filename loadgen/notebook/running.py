"""Running a scenario from Python, with the flags of `loadgen run` as keyword arguments.

`run` is awaited (a notebook cell may `await` at its top level; the run then shares the
kernel's loop, and an interrupt stops it as Ctrl-C stops `loadgen run`); `run_sync` blocks,
and works in a plain script and inside a notebook's running loop alike (blocking.py).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, ParamSpec

from loadgen.config.scenario import Scenario, load_scenario, scenario_from_dict
from loadgen.core.errors import ConfigError
from loadgen.notebook.blocking import run_to_end, worker_stop
from loadgen.notebook.result import Result
from loadgen.report.saved_run import load_run
from loadgen.run import RunOptions, run_async
from loadgen.run.out_folder import claim_out_dir

ScenarioSource = str | Path | Mapping[str, Any]
Duration = str | float  # "20s", "2m", or seconds
Arrival = Literal["constant", "poisson", "gamma"]
P = ParamSpec("P")


async def run(
    scenario: ScenarioSource,
    *,
    rps: float | None = None,
    duration: Duration | None = None,
    requests: int | None = None,
    warmup: Duration | None = None,
    arrival: Arrival | None = None,
    cv: float | None = None,
    concurrency: int | None = None,
    max_in_flight: int | None = None,
    models: Sequence[str] | None = None,
    seed: int | None = None,
    api: str | None = None,
    endpoint_url: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    emulate: bool = False,
    out: str | Path | None = None,
    force: bool = False,
    quality: bool = True,
    preflight: bool = True,
    html: bool = True,
    quiet: bool = True,
    overrides: Mapping[str, Any] | None = None,
) -> Result:
    """Run `scenario` (a YAML file, or its keys as a dict) and return its Result.

    The keyword arguments are `loadgen run`'s flags (`rps` is --rps, `emulate` --emulate...,
    docs/cli.md); `overrides` lays any other scenario keys over the file's, e.g.
    `{"inference": {"max_tokens": 200}}`. The run writes its folder as the command does:
    `out`, or a new `reports/<scenario>-<time>/`; `force` lets it write over a run in `out`.
    `quiet=False` prints the command's summary. One process sends the load: for rates that
    need `--workers`, use the command.
    """
    flags = {
        "rate": rps,
        "duration": duration,
        "requests": requests,
        "warmup": warmup,
        "arrival": arrival,
        "cv": cv,
        "concurrency": concurrency,
        "max_in_flight": max_in_flight,
    }
    target = {"api": api, "endpoint_url": endpoint_url, "region": region, "profile": profile}
    if emulate and endpoint_url is not None:
        raise ConfigError(
            ["emulate=True starts its own endpoint: drop endpoint_url or emulate"], "run"
        )
    given = _layered(
        {
            "load": _given(flags),
            "target": _given(target),
            **({"models": list(models)} if models is not None else {}),
            **({"seed": seed} if seed is not None else {}),
        },
        overrides or {},
    )
    loaded = _scenario(scenario, given)
    out_dir = None if out is None else claim_out_dir(Path(out), force=force)
    options = RunOptions(
        out_dir=out_dir,
        emulate=emulate,
        quiet=quiet,
        preflight=preflight,
        quality=quality,
        html=html,
    )
    ran = await run_async(loaded, options, stop=worker_stop.get())
    return Result(report=ran.report, out_dir=ran.out_dir, exit_code=ran.exit_code)


def _blocking(awaited: Callable[P, Coroutine[Any, Any, Result]]) -> Callable[P, Result]:
    """`awaited`, with its signature, as a call that blocks until the run has ended."""

    @functools.wraps(awaited)
    def blocking(*args: P.args, **kwargs: P.kwargs) -> Result:
        return run_to_end(awaited(*args, **kwargs))

    return blocking


run_sync = _blocking(run)
run_sync.__name__ = run_sync.__qualname__ = "run_sync"
run_sync.__doc__ = """`run`, blocking until the run has ended: in a script, or in a notebook
cell, whose loop keeps running (the run gets a loop of its own on a worker thread). Interrupting
the kernel stops the run as Ctrl-C stops `loadgen run`: the report is written and the Result
comes back, with status "interrupted"; a second interrupt cuts the grace period short."""


def load(path: str | Path) -> Result:
    """A saved run: its folder (what a run wrote) or the path of its report.json."""
    saved = load_run(Path(path))
    return Result(report=saved.report, out_dir=saved.report_path.parent, exit_code=None)


def _given(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _layered(flags: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The scenario keys to lay over the file's: `overrides`, then the keyword arguments
    (as on the command line, a flag wins); sections left empty are dropped."""
    merged: dict[str, Any] = {key: value for key, value in overrides.items()}
    for key, value in flags.items():
        if isinstance(value, dict):
            if value:
                merged[key] = {**(merged.get(key) or {}), **value}
        else:
            merged[key] = value
    return merged


def _scenario(source: ScenarioSource, overrides: dict[str, Any]) -> Scenario:
    if isinstance(source, Mapping):
        # Paths in it (the dataset's) are read from the working folder, as a file's are
        # read from the file's folder.
        return scenario_from_dict(dict(source), base_dir=Path.cwd(), overrides=overrides)
    return load_scenario(source, overrides)
