"""`loadgen compare` refuses runs made against different things (loadgen/compare/provenance.py),
with the provenance a run records (loadgen/run/provenance.py): what changes it, what does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadgen.compare.provenance import (
    EXIT_NOT_COMPARABLE,
    NotComparable,
    check_comparable,
    differences,
)
from loadgen.config.load_models import describe
from loadgen.config.scenario import Scenario, scenario_from_dict
from loadgen.emulator import EMULATOR_VERSION
from loadgen.report.schema import Report
from loadgen.run.provenance import run_provenance
from tests.factories import make_report, make_sample

LABELS = ("base", "new")
MODEL = "m"


def _scenario(tmp_path: Path, **changes: Any) -> Scenario:
    data: dict[str, Any] = {
        "name": "prov",
        "models": [MODEL],
        "prompt": {"template": "Summarise: {body}"},
        "dataset": {"path": "rows.jsonl"},
        "load": {"rate": 4, "arrival": "poisson", "duration": "30s"},
        "emulator": {"seed": 1, "profiles": {MODEL: {"ttft_ms": 200, "output_tokens": 50}}},
        "seed": 7,
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            merged = {**data[key], **value}
            data[key] = {k: v for k, v in merged.items() if v is not None}  # None: left out
        else:
            data[key] = value
    rows = tmp_path / "rows.jsonl"
    if not rows.exists():
        rows.write_text('{"id": "a", "body": "hello"}\n')
    return scenario_from_dict(data, base_dir=tmp_path)


def _report(scenario: Scenario, *, emulated: bool = True, **target: Any) -> Report:
    report: Any = make_report(
        [make_sample(i, model=MODEL) for i in range(3)],
        target={"provider": "bedrock", "api": "bedrock-converse-stream", "region": "us-east-1",
                "endpoint_url": None, "emulated": emulated, **target},
        load=describe(scenario.load),
    )  # fmt: skip
    report["run"]["provenance"] = run_provenance(scenario, emulated)
    return report  # type: ignore[no-any-return]


def _what(base: Report, new: Report) -> set[str]:
    return {d.what for d in differences(base, new)}


def test_a_rerun_with_other_seeds_and_length_is_the_same_thing(tmp_path: Path) -> None:
    base = _scenario(tmp_path)
    rerun = _scenario(
        tmp_path,
        seed=8,
        emulator={"seed": 2},
        load={"duration": "5s", "warmup": "1s"},  # a short nightly against a long baseline
        thresholds=["ttft.p95 < 800ms"],  # judging a run is not what it sent
        description="another day",
    )
    assert differences(_report(base), _report(rerun)) == []
    assert check_comparable(_report(base), _report(rerun), LABELS, allow_different=False) == []


@pytest.mark.parametrize(
    ("changes", "what"),
    [
        ({"emulator": {"profiles": {MODEL: {"ttft_ms": 260, "output_tokens": 50}}}},
         f"emulator profile of {MODEL}"),
        ({"prompt": {"template": "Summarise briefly: {body}"}}, "scenario digest"),
        ({"inference": {"max_tokens": 99}}, "scenario digest"),
        ({"load": {"rate": 8}}, "load.rate"),
        ({"load": {"arrival": "constant"}}, "load.arrival"),
        ({"load": {"rate": None, "concurrency": 4}}, "load.loop"),
    ],
)  # fmt: skip
def test_what_changes_the_test_is_named(tmp_path: Path, changes: dict[str, Any], what: str) -> None:
    base, new = _report(_scenario(tmp_path)), _report(_scenario(tmp_path, **changes))
    assert what in _what(base, new)


def test_another_dataset_file_content_is_a_difference(tmp_path: Path) -> None:
    base = _report(_scenario(tmp_path))
    (tmp_path / "rows.jsonl").write_text('{"id": "a", "body": "goodbye"}\n')
    assert _what(base, _report(_scenario(tmp_path))) == {"dataset digest"}


def test_another_emulator_version_or_target_is_a_difference(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path)
    base, new = _report(scenario), _report(scenario)
    new["run"]["provenance"]["emulator"]["version"] += 1  # type: ignore[index]
    assert _what(base, new) == {"emulator version"}
    bedrock = _report(scenario, emulated=False)
    assert "target" in _what(base, bedrock)
    other_region = _report(scenario, emulated=False, region="eu-west-1")
    assert _what(bedrock, other_region) == {"region"}


def test_refused_with_each_difference_named_unless_allowed(tmp_path: Path) -> None:
    base = _report(_scenario(tmp_path))
    new = _report(_scenario(tmp_path, load={"rate": 8}))
    new["run"]["provenance"]["emulator"]["version"] += 1  # type: ignore[index]
    with pytest.raises(NotComparable) as refused:
        check_comparable(base, new, LABELS, allow_different=False)
    assert refused.value.exit_code == EXIT_NOT_COMPARABLE == 9
    message = str(refused.value)
    assert "load.rate: 4.0 in base, 8.0 in new" in message
    assert f"emulator version: {EMULATOR_VERSION} in base, {EMULATOR_VERSION + 1} in new" in message
    assert "--allow-different-targets" in message
    notes = check_comparable(base, new, LABELS, allow_different=True)
    assert len(notes) == 2 and all(n.startswith("compared anyway") for n in notes)


def test_a_report_without_provenance_cannot_be_checked_and_says_so(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path)
    old, new = _report(scenario), _report(scenario)
    del old["run"]["provenance"]
    notes = check_comparable(old, new, LABELS, allow_different=False)
    assert len(notes) == 1 and "base has no provenance" in notes[0]
