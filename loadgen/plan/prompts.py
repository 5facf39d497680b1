"""Dataset rows and the prompt template that turns each row into a request."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path
from typing import Any

from loadgen.config.scenario import Scenario
from loadgen.core.errors import ConfigError
from loadgen.engine.request import Prompt


def load_rows(scenario: Scenario) -> list[dict[str, Any]]:
    spec = scenario.dataset
    if spec.rows is not None:
        rows = list(spec.rows)
        where = "dataset.rows"
    else:
        assert spec.path is not None
        path = scenario.base_dir / spec.path
        where = f"dataset.path ({path})"
        rows = _read_jsonl(path, where)
    if not rows:
        raise ConfigError([f"{where}: the dataset has no rows; add at least one"])
    return rows


def _read_jsonl(path: Path, where: str) -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(
            [f"{where}: no such file; the path is relative to the scenario"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{where}: cannot read it ({exc})"]) from None
    rows, problems = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where} line {number}: not valid JSON ({exc.msg})")
            continue
        if not isinstance(row, dict):
            problems.append(f"{where} line {number}: expected a JSON object per line")
            continue
        rows.append(row)
    if problems:
        raise ConfigError(problems[:20])
    return rows


def template_fields(template: str) -> set[str]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigError(
            [f"prompt.template: {exc}; write literal braces as {{{{ and }}}}"]
        ) from None
    return {field.split(".")[0].split("[")[0] for _, field, _, _ in parsed if field}


def estimate_input_tokens(prompt: Prompt) -> int:
    """A deliberately high estimate of a prompt's input tokens, for worst-case cost only.

    English text runs about four characters a token; three leaves room for other languages and
    markup, and the constant covers the message framing a model adds.
    """
    characters = len(prompt.user) + len(prompt.system or "")
    return characters // 3 + 50


class PromptSource:
    """Cycles through the rows (shuffled once with the run's seed) and renders each."""

    def __init__(self, scenario: Scenario, rows: list[dict[str, Any]], seed: int) -> None:
        needed = template_fields(scenario.prompt.template)
        if scenario.prompt.system:
            needed |= template_fields(scenario.prompt.system)
        problems = []
        for index, row in enumerate(rows):
            missing = sorted(needed - row.keys())
            if missing:
                row_name = row.get("id", f"row {index + 1}")
                problems.append(
                    f"dataset {row_name}: lacks field(s) {', '.join(missing)} "
                    "that the prompt template uses"
                )
        if not problems:
            # Render every row once now: a format spec or attribute the row cannot satisfy
            # ({amount:d} on a string) must fail here, not mid-run.
            for index, row in enumerate(rows):
                try:
                    scenario.prompt.template.format_map(row)
                    if scenario.prompt.system:
                        scenario.prompt.system.format_map(row)
                except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
                    row_name = row.get("id", f"row {index + 1}")
                    problems.append(f"dataset {row_name}: the prompt template fails on it: {exc}")
        if problems:
            raise ConfigError(problems[:20])
        self._rows = list(rows)
        if scenario.dataset.shuffle:
            random.Random(seed).shuffle(self._rows)
        self._system = scenario.prompt.system
        self._template = scenario.prompt.template

    def __len__(self) -> int:
        return len(self._rows)

    def rows_by_id(self) -> dict[str, dict[str, Any]]:
        """Each row under the row_id its Samples carry (its `id`, else its position)."""
        return {str(row.get("id", index)): row for index, row in enumerate(self._rows)}

    def prompt(self, index: int) -> Prompt:
        row = self._rows[index % len(self._rows)]
        system = self._system.format_map(row) if self._system else None
        return Prompt(
            row_id=str(row.get("id", index % len(self._rows))),
            system=system,
            user=self._template.format_map(row),
        )
