"""What a run records about what produced it (loadgen/run/provenance.py): digests that follow
the content, not its spelling. How compare uses them: tests/unit/compare/test_provenance.py."""

from __future__ import annotations

from pathlib import Path

import yaml

from loadgen.config.scenario import load_scenario, scenario_from_dict
from loadgen.emulator import EMULATOR_VERSION
from loadgen.run.provenance import run_provenance, scenario_sha256

SCENARIO = """\
name: digest
models: [amazon.nova-lite-v1:0]
prompt: {template: "Summarise: {body}"}
dataset: {rows: [{id: a, body: hello}]}
load: {rate: 2, duration: 10s}
"""
# The same scenario, spelled otherwise: keys reordered, a comment, a default written out.
RESPELLED = """\
# the same test
load: {duration: 10s, rate: 2}
dataset:
  rows: [{body: hello, id: a}]
  shuffle: true
prompt: {template: "Summarise: {body}"}
models: [amazon.nova-lite-v1:0]
name: digest
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_scenario_digest_follows_content_not_spelling(tmp_path: Path) -> None:
    one = load_scenario(_write(tmp_path, "one.yaml", SCENARIO))
    two = load_scenario(_write(tmp_path, "two.yaml", RESPELLED))
    assert run_provenance(one, emulated=True) == run_provenance(two, emulated=True)
    changed = load_scenario(_write(tmp_path, "three.yaml", SCENARIO.replace("hello", "bye")))
    assert (
        run_provenance(changed, emulated=False)["scenario_sha256"]
        != run_provenance(one, emulated=False)["scenario_sha256"]
    )


def test_the_emulator_part_names_each_models_profile_and_version(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, "one.yaml", SCENARIO))
    emulator = run_provenance(scenario, emulated=True)["emulator"]
    assert emulator is not None and emulator["version"] == EMULATOR_VERSION
    assert emulator["profiles"]["amazon.nova-lite-v1:0"]["profile"] == "amazon.nova-lite-v1:0"
    # A profile's description is words: another one answers the same.
    described = SCENARIO + (
        "emulator: {profiles: {amazon.nova-lite-v1:0: {ttft_ms: 350, description: a}}}\n"
    )
    redescribed = described.replace("description: a", "description: b")
    digests = [
        run_provenance(load_scenario(_write(tmp_path, f"{i}.yaml", text)), emulated=True)
        for i, text in enumerate((described, redescribed))
    ]
    assert digests[0] == digests[1]
    assert run_provenance(scenario, emulated=False)["emulator"] is None


def test_a_model_turning_an_inherited_option_off_changes_the_digest() -> None:
    # `cache: null` on one model equals the field's default, yet it changes that model's
    # requests: the digest holds each model's options as resolved.
    scenarios = Path(__file__).resolve().parents[3] / "scenarios"
    data = yaml.safe_load((scenarios / "support_agent.yaml").read_text())
    with_off = scenario_sha256(scenario_from_dict(data, base_dir=scenarios))
    gpt_oss = next(m for m in data["models"] if isinstance(m, dict) and "cache" in m)
    del gpt_oss["cache"]
    inherited = scenario_sha256(scenario_from_dict(data, base_dir=scenarios))
    assert with_off != inherited
