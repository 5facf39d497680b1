"""A scenario from flags (loadgen/config/from_flags.py), --save-scenario, and where a
dataset path is looked for (loadgen/config/scenario.py: dataset_path)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import yaml

from loadgen.config.from_flags import build_scenario, parse_synthetic
from loadgen.config.scenario import Scenario, load_scenario
from loadgen.core.errors import ConfigError
from loadgen.plan.phases import plan
from loadgen.plan.prompts import PromptSource, load_rows

FLAGS = {"models": ["amazon.nova-micro-v1:0"], "load": {"rate": 5.0, "duration": "3s"}}


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("2000:300", {"input": 2000, "output": 300}),
        ("2_000:300:1000", {"input": 2000, "output": 300, "shared_prefix": 1000}),
        ("10:1:0", {"input": 10, "output": 1}),
    ],
)
def test_synthetic_flag_values(text: str, spec: dict[str, int]) -> None:
    assert parse_synthetic(text) == spec


@pytest.mark.parametrize("text", ["2000", "2000:", "a:3", "0:300", "20:0", "1:2:3:4", "5:5:-1"])
def test_bad_synthetic_flag_values_name_the_flag(text: str) -> None:
    with pytest.raises(ConfigError, match="--synthetic: expected IN:OUT"):
        parse_synthetic(text)


def test_flags_alone_make_a_scenario() -> None:
    scenario = build_scenario(None, FLAGS, synthetic="2000:300:100")
    assert [m.id for m in scenario.models] == ["amazon.nova-micro-v1:0"]
    assert scenario.name == "synthetic-2000-300"
    synthetic = scenario.dataset.synthetic
    assert synthetic is not None and synthetic.shared_prefix == 100
    assert (scenario.load.rate, scenario.load.duration) == (5.0, 3.0)
    assert scenario.prompt.template == "{text}"


def test_flags_alone_without_a_stop_run_a_minute() -> None:
    scenario = build_scenario(None, {"models": ["m"], "load": {"rate": 2}}, synthetic="10:10")
    assert scenario.load.duration == 60


@pytest.mark.parametrize(
    ("overrides", "synthetic", "missing"),
    [({}, "20:30", "--model missing"), (FLAGS, None, "--synthetic missing")],
)
def test_flags_alone_need_model_and_synthetic(
    overrides: dict[str, object], synthetic: str | None, missing: str
) -> None:
    with pytest.raises(ConfigError, match=f"give a SCENARIO file.*{missing}"):
        build_scenario(None, overrides, synthetic=synthetic)


def _plan(scenario: Scenario) -> list[tuple[int, str, str, int]]:
    assert scenario.seed is not None
    source = PromptSource(scenario, load_rows(scenario), scenario.seed)
    models = [m.id for m in scenario.models]
    planned = itertools.islice(plan(scenario, models, source, scenario.seed, 0), 50)
    return [
        (p.offset_ns, p.request.model, p.request.prompt.user, p.request.max_tokens) for p in planned
    ]


def test_a_saved_scenario_plans_the_same_requests(tmp_path: Path) -> None:
    saved = tmp_path / "saved.yaml"
    built = build_scenario(None, FLAGS, synthetic="800:120", save_to=saved)
    assert built.seed is not None  # chosen, and written: the file repeats the run
    assert yaml.safe_load(saved.read_text())["seed"] == built.seed
    again = load_scenario(saved)
    assert _plan(again) == _plan(built)


def test_synthetic_replaces_a_scenarios_dataset(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "rows",
                "models": ["m"],
                "prompt": {"template": "Say {word}"},
                "dataset": {"path": "missing.jsonl"},
                "load": {"rate": 1, "requests": 3},
            }
        )
    )
    scenario = build_scenario(path, {}, synthetic="50:5")
    assert scenario.dataset.path is None and scenario.dataset.synthetic is not None
    assert scenario.prompt.template == "{text}"
    assert load_rows(scenario)[0]["input_tokens"] == 50


def test_a_saved_scenario_keeps_naming_its_dataset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "rows.jsonl").write_text(json.dumps({"id": "r1", "word": "hi"}) + "\n")
    path = tmp_path / "a" / "s.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "rows",
                "models": ["m"],
                "prompt": {"template": "Say {word}"},
                "dataset": {"path": "rows.jsonl"},
                "load": {"rate": 1, "requests": 3},
            }
        )
    )
    saved = tmp_path / "b" / "saved.yaml"
    build_scenario(path, {"load": {"rate": 3.0}}, save_to=saved)
    monkeypatch.chdir(tmp_path)  # neither folder: the path is found beside the saved file
    again = load_scenario(saved)
    assert again.load.rate == 3.0
    assert load_rows(again) == [{"id": "r1", "word": "hi"}]


def _rows_scenario(folder: Path) -> Path:
    path = folder / "s.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "rows",
                "models": ["m"],
                "prompt": {"template": "Say {word}"},
                "dataset": {"path": "data/rows.jsonl"},
                "load": {"rate": 1, "requests": 3},
            }
        )
    )
    return path


def test_a_dataset_path_is_also_looked_for_in_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "rows.jsonl").write_text(json.dumps({"word": "hi"}) + "\n")
    scenario = load_scenario(_rows_scenario(tmp_path / "scenarios"))
    monkeypatch.chdir(tmp_path)
    assert load_rows(scenario) == [{"word": "hi"}]


def test_a_dataset_in_neither_place_names_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "elsewhere").mkdir()
    scenario = load_scenario(_rows_scenario(tmp_path / "scenarios"))
    monkeypatch.chdir(tmp_path / "elsewhere")
    with pytest.raises(ConfigError) as caught:
        load_rows(scenario)
    message = str(caught.value)
    assert str(tmp_path / "scenarios" / "data" / "rows.jsonl") in message
    assert str(tmp_path / "elsewhere" / "data" / "rows.jsonl") in message
    assert "beside the scenario first, then in the current folder" in message
