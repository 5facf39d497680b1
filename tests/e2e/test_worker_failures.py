"""A `--workers` run whose worker dies: reported as a death (never as a Ctrl-C), the others
stopped, what the dead worker measured merged, exit 7, nothing left running.

The run is a real `loadgen run ... --emulate --workers 2` in a process of its own; worker 1 is
found by the samples.jsonl it holds open (/proc/<pid>/fd) and killed with SIGKILL mid-run.
Every wait polls with a generous deadline: nothing depends on how fast the machine is.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from loadgen.run.finish import EXIT_WORKER_DIED
from tests.helpers import REPO

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/fd").is_dir(), reason="finds the worker processes through /proc"
)

SCENARIO = """\
name: dies
models: [fixed-model]
prompt: {template: "Summarise: {body}"}
dataset: {rows: [{id: r1, body: "hello world"}, {id: r2, body: "goodbye world"}]}
inference: {max_tokens: 100}
load: {rate: 20, arrival: constant, duration: 120s}
cost: {allow_unpriced: true}
seed: 1
emulator:
  profiles:
    fixed-model: {ttft_ms: 50, itl_ms: 5, output_tokens: 10, tokens_per_delta: 1}
"""
PATIENCE_S = 120.0  # far beyond what any step takes, even on a slow, shared machine


def _poll(what: str, check: Callable[[], bool], timeout_s: float = PATIENCE_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:.0f} s: {what}")
        time.sleep(0.1)


def _children(parent: int) -> list[int]:
    """The processes whose parent is `parent` (from /proc/<pid>/stat)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
    return found


def _holding(pids: list[int], path: Path) -> int | None:
    """Which of `pids` has `path` open."""
    wanted = str(path.resolve())
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == wanted:
                        return pid
    return None


def _gone(pid: int) -> bool:
    """Exited: no such process, or only a zombie left for whoever reaps it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip()]


def test_a_killed_worker_is_reported_as_died_and_its_samples_are_merged(
    aws_env: dict[str, str], tmp_path: Path
) -> None:
    scenario = tmp_path / "dies.yaml"
    scenario.write_text(SCENARIO)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "loadgen.cli", "run", str(scenario), "--emulate"]
    command += ["--workers", "2", "--out", str(out), "--no-html"]
    run = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        dead_samples = out / "workers" / "1" / "samples.jsonl"
        # Mid-run: worker 1 has answers in its samples.jsonl (20 req/s over two workers).
        _poll(
            "worker 1 wrote 10 samples",
            lambda: dead_samples.is_file() and len(_lines(dead_samples)) >= 10,
        )
        children = _children(run.pid)
        worker_1 = _holding(children, dead_samples)
        worker_0 = _holding(children, out / "workers" / "0" / "samples.jsonl")
        assert worker_1 is not None and worker_0 is not None, children
        written_before = len(_lines(dead_samples))
        os.kill(worker_1, signal.SIGKILL)
        output, _ = run.communicate(timeout=PATIENCE_S)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == EXIT_WORKER_DIED, output
    report = json.loads((out / "report.json").read_text())
    section = report["run"]
    assert section["status"] == "aborted"
    reason = section["status_reason"]
    found = re.fullmatch(
        r"worker 1 died \(killed by SIGKILL\) at (\d+\.\d) s; its (\d+) samples so far are merged",
        reason,
    )
    assert found, reason
    assert "SIGINT" not in reason
    merged_from_dead = int(found[2])
    dead_lines = _lines(dead_samples)  # whole lines only: a line cut by the kill is dropped
    assert merged_from_dead == len(dead_lines) >= written_before
    assert all(json.loads(line) for line in dead_lines)
    # The merged samples.jsonl holds both workers' lines, not the survivor's alone.
    survivor_lines = _lines(out / "workers" / "0" / "samples.jsonl")
    merged = [json.loads(line) for line in _lines(out / "samples.jsonl")]
    assert len(merged) == len(survivor_lines) + len(dead_lines) > len(survivor_lines)
    ids = [s["request_id"] for s in merged]
    assert len(set(ids)) == len(ids)
    # Constant arrivals: worker 1 sends the odd request ids.
    assert sum(1 for i in ids if i % 2 == 1) == len(dead_lines)
    model = report["models"]["fixed-model"]
    assert model["requests"]["sent"] + model["requests"]["dropped"] == len(merged)
    assert [(w["worker"], w["status"]) for w in section["workers"]] == [
        (0, "interrupted"),  # stopped by the parent, as Ctrl-C stops a run
        (1, "aborted"),
    ]
    assert any(n.startswith("worker 0 was stopped when worker 1 died") for n in section["notes"])
    assert "worker 1 died" in output  # the console summary says it too
    # Nothing left running: the workers, the emulator (and multiprocessing's helper) ended
    # with the run, which waits for them (the poll only lets a slow kernel catch up).
    _poll(f"every child of the run ended: {children}", lambda: all(map(_gone, children)), 30)
