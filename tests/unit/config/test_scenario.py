"""Scenario validation: every problem at once, each with its path and what was found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.config.scenario import load_scenario, scenario_from_dict
from loadgen.core.durations import parse_duration
from loadgen.core.errors import ConfigError
from loadgen.plan.prompts import PromptSource, load_rows
from tests.helpers import REPO


def minimal(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "t",
        "models": ["amazon.nova-lite-v1:0"],
        "prompt": {"template": "Summarise: {body}"},
        "dataset": {"rows": [{"id": "r1", "body": "hello"}]},
        "load": {"rate": 2, "duration": "5s"},
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("2m", 120), ("500ms", 0.5), ("1h30m", 5400), ("1.5", 1.5), (3, 3)],
)
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", ["", "abc", "5x", "10s5", "s", True])
def test_bad_durations(bad: Any) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_shipped_scenario_loads_and_renders() -> None:
    scenario = load_scenario(REPO / "scenarios" / "email_summary.yaml")
    assert [m.id for m in scenario.models] == [
        "us.amazon.nova-lite-v1:0",
        "us.amazon.nova-pro-v1:0",
        "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
    ]
    rows = load_rows(scenario)
    assert len(rows) >= 10
    prompt = PromptSource(scenario, rows, seed=1).prompt(0)
    assert "Action items" in prompt.user
    assert prompt.system and "executive" in prompt.system


def test_every_problem_reported_at_once() -> None:
    data = minimal(
        models=[],
        load={"rate": -1, "duration": "0s", "arival": "poisson"},
        target={"endpoint_url": "ftp://x"},
    )
    with pytest.raises(ConfigError) as caught:
        scenario_from_dict(data)
    text = str(caught.value)
    assert "models:" in text
    assert "load.rate:" in text and "found -1" in text
    assert "load.duration:" in text
    assert "load.arival: unknown key" in text
    assert "target.endpoint_url:" in text
    assert len(caught.value.problems) == 5


def test_overrides_are_named_by_their_flag() -> None:
    with pytest.raises(ConfigError) as caught:
        scenario_from_dict(minimal(), overrides={"load": {"rate": 0}})
    assert caught.value.problems[0].startswith("--rps:")


def test_duration_override_replaces_request_count() -> None:
    data = minimal(load={"rate": 1, "requests": 5})
    scenario = scenario_from_dict(data, overrides={"load": {"duration": "2s"}})
    assert scenario.load.duration == 2.0 and scenario.load.requests is None


def test_needs_a_stop_rule() -> None:
    with pytest.raises(ConfigError, match=r"load\.duration"):
        scenario_from_dict(minimal(load={"rate": 1}))


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_scenario(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_scenario(bad)
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_scenario(listy)


def test_dataset_rows_must_fill_the_template(tmp_path: Path) -> None:
    scenario = scenario_from_dict(
        minimal(dataset={"rows": [{"id": "e1", "subject": "x"}]}), base_dir=tmp_path
    )
    with pytest.raises(ConfigError, match=r"e1: lacks field\(s\) body"):
        PromptSource(scenario, load_rows(scenario), seed=0)


def test_unreadable_dataset(tmp_path: Path) -> None:
    scenario = scenario_from_dict(minimal(dataset={"path": "missing.jsonl"}), base_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"dataset\.path"):
        load_rows(scenario)
    (tmp_path / "bad.jsonl").write_text('{"body": 1}\nnot json\n')
    scenario = scenario_from_dict(minimal(dataset={"path": "bad.jsonl"}), base_dir=tmp_path)
    with pytest.raises(ConfigError, match="line 2: not valid JSON"):
        load_rows(scenario)


def test_duplicate_models_rejected() -> None:
    with pytest.raises(ConfigError, match="repeated: m"):
        scenario_from_dict(minimal(models=["m", "m"]))


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=True), st.text(max_size=8)
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
_keys = st.sampled_from(
    [
        "name",
        "models",
        "prompt",
        "dataset",
        "load",
        "target",
        "timeouts",
        "seed",
        "inference",
        "circuit_breaker",
        "emulator",
        "extra",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=8))
def test_any_mapping_parses_or_gives_config_error(data: dict[str, Any]) -> None:
    try:
        scenario_from_dict(data)
    except ConfigError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_text_file_loads_or_gives_config_error(text: str) -> None:
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(text)
    try:
        load_scenario(handle.name)
    except ConfigError as exc:
        assert exc.problems
    finally:
        Path(handle.name).unlink()


def test_signed_request_path_with_the_sdk_decoder_is_refused() -> None:
    data = minimal(target={"request_path": "signed", "stream_decoder": "sdk"})
    with pytest.raises(ConfigError) as caught:
        scenario_from_dict(data)
    (problem,) = caught.value.problems
    assert problem.startswith("target: request_path: signed")
    assert "stream_decoder is sdk" in problem and "set request_path: sdk" in problem


@pytest.mark.parametrize(
    ("target", "path"),
    [
        ({}, "signed"),
        ({"stream_decoder": "sdk"}, "sdk"),  # as before request_path existed: botocore's path
        ({"request_path": "sdk"}, "sdk"),
        ({"request_path": "sdk", "stream_decoder": "sdk"}, "sdk"),
    ],
)
def test_request_path_defaults(target: dict[str, str], path: str) -> None:
    assert scenario_from_dict(minimal(target=target)).target.request_path == path
