"""`loadgen report`, `compare`, `merge` and `emulate` as `run` meets a user's mistake: one
line saying what is wrong and what to do, a documented exit code, never a traceback.

Three small runs against the emulator: two made side by side (so they merge), and one after
them (so it does not).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadgen.report.build import SCHEMA_VERSION
from loadgen.run.setup import prepare_out_dir
from tests.helpers import REPO, loadgen

MODEL = "us.amazon.nova-lite-v1:0"
EXIT_USAGE = 2


def _scenario(path: Path, seed: int) -> Path:
    data = {
        "name": "errors_check",
        "models": [MODEL],
        "prompt": {"template": "Summarise: {body}"},
        "dataset": {"path": str(REPO / "scenarios" / "data" / "emails.jsonl")},
        "inference": {"max_tokens": 20},
        "load": {"rate": 10, "arrival": "constant", "duration": "2s"},
        "seed": seed,
        "emulator": {
            "seed": seed,
            "profiles": {"amazon.nova-lite-v1:0": {"ttft_ms": 20, "itl_ms": 2, "output_tokens": 5}},
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


def _command(root: Path, name: str, seed: int) -> list[str]:
    scenario = _scenario(root / f"{name}.yaml", seed)
    out = root / name
    flags = ["--emulate", "-q", "--out", str(out)]
    return [sys.executable, "-m", "loadgen.cli", "run", str(scenario), *flags]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("errors")
    side_by_side = [
        subprocess.Popen(_command(root, name, seed), cwd=REPO, stderr=subprocess.PIPE, text=True)
        for name, seed in (("left", 1), ("right", 2))
    ]
    for process in side_by_side:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    later = subprocess.run(
        _command(root, "later", 3), cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert later.returncode == 0, later.stderr
    return {name: root / name for name in ("left", "right", "later")}


def _clean_error(completed: subprocess.CompletedProcess[str], code: int, *texts: str) -> None:
    assert completed.returncode == code, completed.stdout + completed.stderr
    for text in texts:
        assert text in completed.stderr, completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout


# --- report and compare: what is not a report this loadgen can read ----------------------------


def _report(run: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run / "report.json").read_text())
    return data


def _spoiled(spoil: Callable[[dict[str, Any]], object]) -> Callable[[Path, Path], None]:
    def write(run: Path, folder: Path) -> None:
        report = _report(run)
        spoil(report)
        (folder / "report.json").write_text(json.dumps(report))

    return write


def _truncated(run: Path, folder: Path) -> None:
    text = (run / "report.json").read_text()
    (folder / "report.json").write_text(text[: len(text) // 2])


def _samples_only(run: Path, folder: Path) -> None:
    shutil.copy(run / "samples.jsonl", folder / "samples.jsonl")


# Each case: how to make it, and what every command's message says (a text, or several).
BAD_RUNS: dict[str, tuple[Callable[[Path, Path], None], str | tuple[str, ...]]] = {
    "truncated": (_truncated, "report.json: cannot read it as JSON"),
    "a JSON list": (
        lambda run, folder: (folder / "report.json").write_text("[1, 2]"),
        "report.json: not a loadgen report: a JSON list, not an object",
    ),
    "no models": (_spoiled(lambda r: r.pop("models")), "not a loadgen report: no models in it"),
    "models a list": (
        _spoiled(lambda r: r.update(models=[])),
        "not a loadgen report: models is a JSON list",
    ),
    "a later schema_version": (
        _spoiled(lambda r: r.update(schema_version=SCHEMA_VERSION + 1)),
        f"schema_version {SCHEMA_VERSION + 1} (written by loadgen ",
    ),
    "run section empty": (
        _spoiled(lambda r: r.update(run={})),
        "problems, the first 5):\n  - run.scenario: Field required",
    ),
    "a model section damaged": (  # report: the schema's words; compare: the reader's
        _spoiled(lambda r: r["models"][MODEL].pop("requests")),
        (f"models.{MODEL}", "requests"),
    ),
    "empty folder": (lambda run, folder: None, "no report.json there: give a run's folder"),
    "samples.jsonl only": (
        _samples_only,
        "samples.jsonl is there: that run is still going, or it stopped before writing its report",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_RUNS))
def test_report_and_compare_refuse_what_is_not_a_readable_report(
    runs: dict[str, Path], tmp_path: Path, case: str
) -> None:
    make, message = BAD_RUNS[case]
    messages = (message,) if isinstance(message, str) else message
    folder = tmp_path / "bad"
    folder.mkdir()
    make(runs["left"], folder)
    for command in (
        ["report", str(folder)],
        ["report", str(folder), "--html"],
        ["compare", str(runs["left"]), str(folder)],
    ):
        _clean_error(loadgen(*command), EXIT_USAGE, *messages)
    assert not (folder / "report.html").exists()


def test_report_html_of_a_damaged_report_says_what_is_damaged(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    report = _report(runs["left"])
    report["timeseries"] = None  # the summary does not need it; the page does
    (tmp_path / "report.json").write_text(json.dumps(report))
    printed = loadgen("report", str(tmp_path))
    assert printed.returncode == 0, printed.stderr
    assert MODEL in printed.stdout
    page = loadgen("report", str(tmp_path), "--html")
    _clean_error(page, EXIT_USAGE, "timeseries: Input should be a valid dictionary")


def test_compare_with_no_model_in_common_is_an_error(runs: dict[str, Path], tmp_path: Path) -> None:
    report = _report(runs["right"])
    report["models"] = {"other-model": report["models"][MODEL]}
    (tmp_path / "report.json").write_text(json.dumps(report))
    completed = loadgen("compare", str(runs["left"]), str(tmp_path), "--json", str(tmp_path / "c"))
    _clean_error(
        completed,
        EXIT_USAGE,
        f"no model in common, nothing to compare: {runs['left']} has {MODEL}; {tmp_path} has "
        "other-model",
    )
    assert not (tmp_path / "c").exists()


def test_an_output_that_cannot_be_written_is_one_line(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-folder" / "c.json"
    completed = loadgen("compare", str(runs["left"]), str(runs["right"]), "--json", str(missing))
    _clean_error(completed, 6, f"cannot write {missing}: No such file or directory")


# --- merge ----------------------------------------------------------------------------------


def test_runs_made_side_by_side_merge(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "merged"
    completed = loadgen("merge", str(runs["left"]), str(runs["right"]), "-o", str(out), "-q")
    assert completed.returncode == 0, completed.stderr
    merged = _report(out)
    parts = [_report(runs[name]) for name in ("left", "right")]
    sent = merged["models"][MODEL]["requests"]["sent"]
    assert sent == sum(p["models"][MODEL]["requests"]["sent"] for p in parts)


@pytest.mark.parametrize(
    ("second", "which"),
    [
        (lambda run, tmp: run, "given twice (the same report.json)"),
        (lambda run, tmp: run / "report.json", "given twice (the same report.json)"),
        (lambda run, tmp: Path(shutil.copytree(run, tmp / "copy")), "(an identical report.json)"),
    ],
    ids=["the same folder", "its report.json", "a copy"],
)
def test_merge_refuses_one_run_given_twice(
    runs: dict[str, Path], tmp_path: Path, second: Callable[[Path, Path], Path], which: str
) -> None:
    out = tmp_path / "merged"
    twice = second(runs["left"], tmp_path)
    completed = loadgen("merge", str(runs["left"]), str(twice), "-o", str(out))
    _clean_error(completed, EXIT_USAGE, which, "its requests would count twice")
    assert not out.exists()


def test_merge_of_a_copy_whose_report_was_edited_is_caught_by_its_samples(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    copy = Path(shutil.copytree(runs["left"], tmp_path / "copy"))
    report = _report(copy)
    report["run"]["notes"].append("edited")
    (copy / "report.json").write_text(json.dumps(report))
    completed = loadgen("merge", str(runs["left"]), str(copy), "-o", str(tmp_path / "m"))
    _clean_error(completed, EXIT_USAGE, f"the same run as {runs['left']} (an identical samples")


def test_merge_refuses_runs_made_one_after_another_unless_allowed(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    args = ["merge", str(runs["left"]), str(runs["later"]), "-o", str(tmp_path / "m"), "-q"]
    refused = loadgen(*args)
    _clean_error(
        refused,
        EXIT_USAGE,
        "these runs did not run at the same time:",
        f"{runs['left']} ended at",
        f"before {runs['later']} started at",
        "pass --allow-disjoint",
    )
    allowed = loadgen(*args, "--allow-disjoint")
    assert allowed.returncode == 0, allowed.stderr
    assert (tmp_path / "m" / "report.json").is_file()


def test_merge_into_a_folder_that_holds_a_run_is_refused_unless_forced(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    out = Path(shutil.copytree(runs["later"], tmp_path / "out"))
    kept = (out / "report.json").read_bytes()
    args = ["merge", str(runs["left"]), str(runs["right"]), "-o", str(out), "-q"]
    _clean_error(
        loadgen(*args),
        EXIT_USAGE,
        f"{out} already holds a run (report.json); pass --force to overwrite it",
    )
    assert (out / "report.json").read_bytes() == kept
    forced = loadgen(*args, "--force")
    assert forced.returncode == 0, forced.stderr
    assert _report(out)["run"]["notes"][0].startswith("merged from 2 runs")


def test_merge_into_a_folder_being_written_is_refused(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    out = prepare_out_dir(tmp_path / "held", "holder")  # locked by this process from now on
    args = ["merge", str(runs["left"]), str(runs["right"]), "-o", str(out), "--force"]
    _clean_error(
        loadgen(*args),
        EXIT_USAGE,
        f"{out} is being written by another loadgen run (pid {os.getpid()})",
    )
    assert not (out / "report.json").exists()


# --- emulate ------------------------------------------------------------------------------


def _emulate(*args: str, module: bool = False) -> subprocess.CompletedProcess[str]:
    """The emulator as a user starts it; one that did start is stopped after 20 s."""
    command = ["-m", "loadgen.emulator"] if module else ["-m", "loadgen.cli", "emulate"]
    try:
        return subprocess.run(
            [sys.executable, *command, *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=20,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the emulator started instead of refusing: {exc.stdout!r}")


def test_emulate_refuses_a_port_out_of_range() -> None:
    _clean_error(_emulate("--port", "99999"), EXIT_USAGE, "99999 is not in the range 0<=x<=65535")
    _clean_error(_emulate("--port", "70000", module=True), EXIT_USAGE, "70000 is not from 0 to")


@pytest.mark.parametrize("module", [False, True], ids=["loadgen emulate", "python -m"])
def test_emulate_on_a_port_in_use_says_so(module: bool) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = _emulate("--port", str(port), module=module)
    _clean_error(
        completed,
        EXIT_USAGE,
        f"error: the emulator cannot listen on 127.0.0.1:{port}: port {port} is in use",
        "--port 0 for a free one",
    )


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("192.0.2.1", "192.0.2.1 is not an address of this machine; use 127.0.0.1"),  # TEST-NET-1
        ("no-such-host.invalid", "'no-such-host.invalid' is not a host name or address"),
    ],
)
def test_emulate_on_a_host_it_cannot_listen_on_says_so(host: str, message: str) -> None:
    _clean_error(_emulate("--host", host), EXIT_USAGE, message)
