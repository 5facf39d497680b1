"""A scenario from command-line flags, no YAML needed: `loadgen run --model ID --synthetic
2000:300 --rps 5 --duration 1m` (docs/cli.md, "A start with flags only").

The flags build the scenario mapping a YAML file would hold; `--save-scenario FILE` writes it,
so that `loadgen run FILE` repeats the run (the seed is written too: the same prompts and
arrivals) and the file can be edited from there. `--synthetic` also replaces the dataset of a
scenario that is given.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import yaml

from loadgen.config.request_options import resolve_tool_files
from loadgen.config.scenario import (
    SYNTHETIC_TEMPLATE,
    Scenario,
    dataset_path,
    read_scenario_data,
    scenario_from_dict,
    with_overrides,
)
from loadgen.core.atomic_file import write_text_atomically
from loadgen.core.errors import ConfigError

# A run from flags that names no duration or count sends for a minute.
DEFAULT_DURATION = "60s"


def parse_synthetic(text: str) -> dict[str, int]:
    """`IN:OUT[:PREFIX]` (input tokens, output tokens, shared prefix tokens) as
    dataset.synthetic's keys; ConfigError naming --synthetic when it is not that."""
    parts = text.split(":")
    counts: list[int] = []
    for part in parts:
        try:
            counts.append(int(part.strip().replace("_", "")))
        except ValueError:
            counts = []
            break
    if len(counts) not in (2, 3) or min(counts[:2], default=0) < 1 or min(counts) < 0:
        raise ConfigError(
            [
                f"--synthetic: expected IN:OUT or IN:OUT:PREFIX in tokens, e.g. 2000:300 or "
                f"2000:300:1000 (IN and OUT at least 1); got {text!r}"
            ]
        )
    spec = {"input": counts[0], "output": counts[1]}
    if len(counts) == 3 and counts[2]:
        spec["shared_prefix"] = counts[2]
    return spec


def scenario_data(
    path: Path | None, synthetic: str | None, *, has_models: bool, has_stop: bool
) -> tuple[dict[str, Any], Path, str]:
    """The scenario mapping before the other flags' overrides, its base folder (where a
    relative dataset path is read from) and its name in messages.

    Without `path`, the flags are the scenario: they must name the model(s) and the dataset
    (--synthetic); `has_stop`: --duration or --requests given (else a minute)."""
    if path is None:
        missing = [
            flag
            for flag, given in (("--model", has_models), ("--synthetic", synthetic))
            if not given
        ]
        if missing:
            raise ConfigError(
                [
                    "give a SCENARIO file, or build one from flags: "
                    f"{' and '.join(missing)} missing (e.g. --model ID --synthetic 2000:300 "
                    "--rps 5 --duration 1m)"
                ]
            )
        assert synthetic is not None
        spec = parse_synthetic(synthetic)
        data: dict[str, Any] = {
            "name": f"synthetic-{spec['input']}-{spec['output']}",
            "dataset": {"synthetic": spec},
        }
        if not has_stop:
            data["load"] = {"duration": DEFAULT_DURATION}
        return data, Path.cwd(), "the flags"
    data = read_scenario_data(path)
    if synthetic is not None:
        # Made prompts replace the scenario's rows, and its template (their fields are gone).
        data = {
            **data,
            "dataset": {"synthetic": parse_synthetic(synthetic)},
            "prompt": {"template": SYNTHETIC_TEMPLATE},
        }
    return data, path.parent, str(path)


def build_scenario(
    path: Path | None,
    overrides: dict[str, Any],
    *,
    synthetic: str | None = None,
    save_to: Path | None = None,
) -> Scenario:
    """The scenario of a `run` or `sweep`: the file (or the flags alone) with the overrides
    laid over it; with `save_to`, written there as YAML first (with a seed: it repeats)."""
    has_stop = any(key in overrides.get("load", {}) for key in ("duration", "requests"))
    data, base_dir, source = scenario_data(
        path, synthetic, has_models=bool(overrides.get("models")), has_stop=has_stop
    )
    if save_to is not None and data.get("seed") is None and "seed" not in overrides:
        data["seed"] = random.SystemRandom().randrange(2**31)
    scenario = scenario_from_dict(data, base_dir=base_dir, overrides=overrides, source=source)
    if save_to is not None:
        save_scenario(save_to, with_overrides(data, overrides), scenario)
    return scenario


def save_scenario(path: Path, data: dict[str, Any], scenario: Scenario) -> None:
    """Write the mapping as YAML at `path`, a relative dataset path made relative to the new
    file's folder (so that it still names the same file), tools from a file inline."""
    # Tools read from a file are written inline: the saved file may live in another folder.
    data = resolve_tool_files(dict(data), scenario.base_dir)
    if scenario.dataset.path is not None:
        found = dataset_path(scenario).resolve()
        data["dataset"] = {
            **data["dataset"],
            "path": os.path.relpath(found, path.resolve().parent),
        }
    text = (
        "# Written by loadgen --save-scenario: `loadgen run THIS_FILE` repeats the run.\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    )
    try:
        write_text_atomically(path, text)
    except OSError as exc:
        raise ConfigError(
            [f"--save-scenario: cannot write it: {exc.strerror}"], str(path)
        ) from None
