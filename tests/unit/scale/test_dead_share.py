"""A worker that died: told from one that stopped by its exit code, and its report rebuilt
from the samples.jsonl lines it wrote (a last line cut by the death skipped). The death of a
real worker: tests/e2e/test_worker_failures.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadgen.core.sample import read_samples
from loadgen.record.recorder import Recorder
from loadgen.report.saved_run import load_run
from loadgen.scale.dead_share import how_it_died, read_back, rebuild_report, target_of
from loadgen.sinks.jsonl import JsonlSink
from tests.conftest import ScenarioFactory
from tests.factories import make_mixed_samples, make_report


@pytest.mark.parametrize("code", [None, 0, 2, 3, 5, 6, 99, 130])
def test_the_documented_exit_codes_are_stops_not_deaths(code: int | None) -> None:
    assert how_it_died(code) is None


def test_signals_and_other_exit_codes_are_deaths() -> None:
    assert how_it_died(-9) == "killed by SIGKILL"
    assert how_it_died(-15) == "killed by SIGTERM"
    assert how_it_died(-11) == "killed by SIGSEGV"
    assert how_it_died(1) == "exit code 1"
    assert how_it_died(1, "ValueError: boom") == "ValueError: boom, exit code 1"
    assert how_it_died(7) == "exit code 7"  # 7 is the parent's to give, never a worker's


def _write(path: Path, count: int, torn: bool) -> list[str]:
    """samples.jsonl as a run writes it (the real sink), and half of one more line."""
    samples = make_mixed_samples()[:count]
    sink = JsonlSink(path)
    sink.start()
    for sample in samples:
        sink.add(sample)
    sink.stop()
    whole = path.read_text().splitlines()
    if torn:
        with path.open("ab") as handle:
            handle.write(b'{"request_id": 9999, "model": "nova-li')
    return whole


def test_a_last_line_cut_by_the_death_is_skipped_and_cut_from_the_file(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    whole = _write(path, 120, torn=True)
    back = read_back(path, ["nova-lite"])
    assert (back.samples, back.skipped) == (120, 1)
    assert path.read_text().splitlines() == whole  # whole lines only, as they were
    assert len(list(read_samples(path))) == 120
    # Folded as the run folds them: the same counts as a Recorder fed the 120 samples.
    direct = Recorder()
    for sample in make_mixed_samples()[:120]:
        direct.add(sample)
    assert (back.recorder.dispatched, back.recorder.dropped) == (direct.dispatched, direct.dropped)
    assert {m: (s.sent, s.ok) for m, s in back.recorder.models.items()} == {
        m: (s.sent, s.ok) for m, s in direct.models.items()
    }


def test_the_rebuilt_report_is_the_one_the_run_would_build_from_those_samples(
    tmp_path: Path, make_scenario: ScenarioFactory
) -> None:
    scenario = make_scenario(models=["nova-lite", "nova-pro", "claude-haiku"])
    folder = tmp_path / "workers" / "1"
    folder.mkdir(parents=True)
    _write(folder / "samples.jsonl", 300, torn=True)
    target = target_of(scenario, emulated=True)
    merged = rebuild_report(
        scenario, folder, "worker 1 died (killed by SIGKILL)", "t0", "t1", 3.2, None, target
    )
    assert merged == 300
    report = load_run(folder).report  # written where the merge looks for it
    run = report["run"]
    assert (run["status"], run["status_reason"]) == ("aborted", "worker 1 died (killed by SIGKILL)")
    assert run["wall_s"] == 3.2 and run["target"] == target
    assert run["load"]["max_in_flight"] == scenario.load.max_in_flight
    expected = make_report(make_mixed_samples()[:300])
    for model, section in report["models"].items():
        assert section.pop("quality") is None
        assert json.loads(json.dumps(section)) == json.loads(json.dumps(expected["models"][model]))
    generator = run["generator"]
    assert generator["dispatched"] + generator["dropped"] == 300 == generator["scheduled"]
    assert report["thresholds"] is None  # the scenario sets none


def test_no_samples_file_leaves_nothing_to_rebuild(
    tmp_path: Path, make_scenario: ScenarioFactory
) -> None:
    scenario = make_scenario()
    target = target_of(scenario, emulated=False)
    assert rebuild_report(scenario, tmp_path, "died", "t0", "t1", 0.0, None, target) is None
    assert not (tmp_path / "report.json").exists()
