"""Datasets and templates refused up front (docs/dataset-format.md): paths that are not regular
files, oversize files and rows, template fields that reach into Python objects, null fields."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from loadgen.config.scenario import Scenario, scenario_from_dict
from loadgen.core.errors import ConfigError
from loadgen.plan.prompts import (
    MAX_DATASET_BYTES,
    MAX_ROW_BYTES,
    PromptSource,
    load_rows,
    template_fields,
)


def scenario(tmp_path: Path, **changes: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "t",
        "models": ["m"],
        "prompt": {"template": "Summarise: {body}"},
        "dataset": {"rows": [{"id": "r1", "body": "hello"}]},
        "load": {"rate": 1, "requests": 1},
    }
    data.update(changes)
    return scenario_from_dict(data, base_dir=tmp_path)


def refusal(tmp_path: Path, path: str | Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_rows(scenario(tmp_path, dataset={"path": str(path)}))
    assert caught.value.exit_code == 2
    return caught.value


def test_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "rows.jsonl"
    os.mkfifo(fifo)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            load_rows(scenario(tmp_path, dataset={"path": "rows.jsonl"}))
            outcome.append(None)
        except BaseException as exc:  # handed to the test below
            outcome.append(exc)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=10)
    if worker.is_alive():  # blocked opening the FIFO: a writer lets it go, then fail
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=10)
        pytest.fail("opening a FIFO dataset blocked waiting for a writer")
    [error] = outcome
    assert isinstance(error, ConfigError)
    assert str(error).startswith(f"dataset.path ({fifo}): is a named pipe (FIFO)")
    assert "not a regular file" in str(error) and "JSON Lines file" in str(error)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    error = refusal(tmp_path, "data")
    assert "is a directory, not a regular file" in str(error)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_before_reading(tmp_path: Path, device: str) -> None:
    if not Path(device).exists():
        pytest.skip(f"no {device} here")
    error = refusal(tmp_path, device)
    assert f"dataset.path ({device}): is a character device, not a regular file" in str(error)


def test_a_missing_file_says_the_path_is_relative_to_the_scenario(tmp_path: Path) -> None:
    error = refusal(tmp_path, "nope.jsonl")
    assert f"'nope.jsonl' not found; tried {tmp_path / 'nope.jsonl'}" in str(error)
    assert "read beside the scenario first, then in the current folder" in str(error)


def test_an_oversize_row_is_refused_by_line(tmp_path: Path) -> None:
    big = json.dumps({"id": "big", "body": "x" * MAX_ROW_BYTES})
    (tmp_path / "rows.jsonl").write_text(f'{{"id": "a", "body": "ok"}}\n{big}\n')
    error = refusal(tmp_path, "rows.jsonl")
    [problem] = error.problems
    assert "line 2: the row is 4.0 MiB, over the 4 MiB limit for one row" in problem


def test_a_row_at_the_limit_is_read(tmp_path: Path) -> None:
    body = "x" * (MAX_ROW_BYTES - len('{"body": ""}'))
    (tmp_path / "rows.jsonl").write_text(json.dumps({"body": body}) + "\n")
    rows = load_rows(scenario(tmp_path, dataset={"path": "rows.jsonl"}))
    assert len(rows[0]["body"]) == len(body)


def test_an_oversize_inline_row_is_refused(tmp_path: Path) -> None:
    rows = [{"id": "a", "body": "ok"}, {"id": "b", "body": "y" * MAX_ROW_BYTES}]
    with pytest.raises(ConfigError) as caught:
        load_rows(scenario(tmp_path, dataset={"rows": rows}))
    assert caught.value.problems[0].startswith("dataset.rows[1]: the row is 4.0 MiB")


def test_an_oversize_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    with path.open("wb") as file:  # sparse: no disk used
        file.truncate(MAX_DATASET_BYTES + 1)
    error = refusal(tmp_path, "huge.jsonl")
    assert "the file is over the 256 MiB limit for a dataset" in str(error)
    assert "use a sample of its rows" in str(error)


def test_rows_end_at_newlines_only(tmp_path: Path) -> None:
    # U+2028 and U+0085 are legal unescaped in a JSON string; str.splitlines would break there.
    # A byte-order mark and CRLF line ends are accepted.
    rows_text = '{"id": "a", "body": "one\u2028two\u0085three"}\r\n\r\n{"id": "b", "body": "x"}\n'
    (tmp_path / "rows.jsonl").write_bytes(b"\xef\xbb\xbf" + rows_text.encode())
    rows = load_rows(scenario(tmp_path, dataset={"path": "rows.jsonl"}))
    assert [row["id"] for row in rows] == ["a", "b"]
    assert rows[0]["body"] == "one\u2028two\u0085three"


def test_a_line_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_bytes(b'{"body": "ok"}\n{"body": "\xff"}\n')
    error = refusal(tmp_path, "rows.jsonl")
    assert "line 2: not UTF-8" in str(error)


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{body.__class__}", "{body.__class__} reaches into the value"),
        ("{body[0].__dict__}", "{body[0].__dict__} reaches into the value"),
        ("{body[0]}", "{body[0]} reaches into the value"),
        ("{0}", "{0} is a position, not a field name"),
        ("{}", "{} has no field name"),
        ("{body!r}", "{body!r} has a conversion (!r)"),
        ("{body:>1000000000}", "{body:>1000000000} has a format spec"),
        ("{body:{width}}", "{body:{width}} has a format spec"),
    ],
)
def test_template_fields_must_be_plain_names(tmp_path: Path, template: str, problem: str) -> None:
    rows = [{"id": "a", "body": "hello", "width": "5"}]
    source = scenario(tmp_path, prompt={"template": template}, dataset={"rows": rows})
    with pytest.raises(ConfigError) as caught:
        PromptSource(source, load_rows(source), seed=1)
    [message] = caught.value.problems
    assert message.startswith(f"prompt.template: {problem}")
    assert "only plain {field} names are allowed" in message
    assert caught.value.exit_code == 2


def test_the_system_prompt_is_held_to_the_same_rule(tmp_path: Path) -> None:
    source = scenario(tmp_path, prompt={"template": "{body}", "system": "You are {body.upper}"})
    with pytest.raises(ConfigError, match=r"prompt\.system: \{body\.upper\} reaches into"):
        PromptSource(source, load_rows(source), seed=1)


def test_plain_fields_and_literal_braces_still_render(tmp_path: Path) -> None:
    rows = [{"id": "a", "from": "Ann", "first name": "Bo", "body": "{x.__class__}"}]
    template = "{{literal}} {from} {first name}: {body}"
    assert template_fields(template) == {"from", "first name", "body"}
    source = scenario(tmp_path, prompt={"template": template}, dataset={"rows": rows})
    prompt = PromptSource(source, load_rows(source), seed=1).prompt(0)
    # A brace in a value is text, never a field: it is not followed.
    assert prompt.user == "{literal} Ann Bo: {x.__class__}"


def test_a_null_field_the_template_uses_is_an_error_naming_row_and_field(tmp_path: Path) -> None:
    rows = [{"id": "a", "body": "ok"}, {"id": "b", "body": None}, {"body": None}]
    source = scenario(tmp_path, dataset={"rows": rows})
    with pytest.raises(ConfigError) as caught:
        PromptSource(source, load_rows(source), seed=1)
    assert caught.value.problems == [
        'dataset b: field(s) body are null; give each a value, "" for an empty text',
        'dataset row 3: field(s) body are null; give each a value, "" for an empty text',
    ]


def test_a_null_field_in_a_file_row_is_the_same_error(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text('{"id": "a", "body": null}\n')
    source = scenario(tmp_path, dataset={"path": "rows.jsonl"})
    with pytest.raises(ConfigError, match=r"dataset a: field\(s\) body are null"):
        PromptSource(source, load_rows(source), seed=1)


def test_a_null_id_is_an_error_and_other_nulls_are_left_alone(tmp_path: Path) -> None:
    rows = [{"id": None, "body": "ok"}]
    source = scenario(tmp_path, dataset={"rows": rows})
    with pytest.raises(ConfigError, match=r"field\(s\) id are null.*leave id out"):
        PromptSource(source, load_rows(source), seed=1)
    # A null the prompt does not use (a quality field, say) is no concern of the prompt's.
    rows = [{"id": "a", "body": "ok", "reference_summary": None}]
    source = scenario(tmp_path, dataset={"rows": rows})
    assert PromptSource(source, load_rows(source), seed=1).prompt(0).user == "Summarise: ok"


def test_an_empty_string_is_a_valid_value(tmp_path: Path) -> None:
    source = scenario(tmp_path, dataset={"rows": [{"id": "a", "body": ""}]})
    assert PromptSource(source, load_rows(source), seed=1).prompt(0).user == "Summarise: "
