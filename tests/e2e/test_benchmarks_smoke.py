"""The benchmarks still run (briefly): a benchmark that rots is found here, not in a release."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import REPO


@pytest.mark.parametrize(
    ("script", "args", "expect"),
    [
        ("accuracy_w1.py", ["--duration", "1", "--rps", "5"], "TTFT service"),
        ("soak_rss.py", ["--requests", "40", "--rps", "20", "--every", "0.5"], "requests sent"),
        ("capacity_w2.py", ["--quick", "--workers", "1"], "highest rate held"),
        ("stream_cpu.py", ["--requests", "5", "--deltas", "5"], "per streamed event"),
        ("record_cpu.py", ["--requests", "20", "--repeat", "1"], "us per event"),
        ("schedule_precision.py", ["--rounds", "1", "--streams", "2"], "pacer (timerfd)"),

        ("progress_cost.py", ["--seconds", "20", "--rps", "20", "--redraws", "5"], "redraw"),
        ("progress_cost.py", ["--workers", "2", "--seconds", "10", "--rps", "20"], "snapshot"),
        ("replay_arrivals.py", ["--calls", "40", "--seconds", "4", "--speeds", "4"], "expected"),
        (
            "accuracy_reasoning.py",
            ["--reasoning", "1024", "--duration", "1", "--rps", "5"],
            "reasoning time",
        ),
        ("accuracy_reasoning.py", ["--cache", "--duration", "1", "--rps", "5"], "cache reads"),
    ],
)
def test_benchmark_runs(script: str, args: list[str], expect: str, aws_env: dict[str, str]) -> None:
    completed = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / script), *args],
        cwd=REPO,
        env={**os.environ, **aws_env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert expect in completed.stdout
