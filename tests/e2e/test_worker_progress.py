"""Live progress of a real `--workers 2` run against the emulator, up to the whole schedule.
The snapshots and the board on their own: tests/unit/scale/test_worker_progress.py."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.run import RunOptions
from loadgen.scale.workers import run_with_workers
from tests.conftest import ScenarioFactory

PROFILE = {"ttft_ms": 50, "itl_ms": 5, "output_tokens": 10, "tokens_per_delta": 1}


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    config = EmulatorConfig.model_validate({"seed": 2, "profiles": {"fixed-model": PROFILE}})
    with EmulatorProcess(config) as process:
        yield process.url


def test_a_two_worker_run_shows_live_progress_up_to_the_whole_schedule(
    endpoint: str, aws_env: dict[str, str], make_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    scenario = make_scenario(
        target={"endpoint_url": endpoint},
        load={"rate": 20, "arrival": "constant", "requests": 60},
    )
    screen = io.StringIO()
    shown = RunOptions(
        out_dir=tmp_path / "shown",
        html=False,
        progress=True,  # as LOADGEN_PROGRESS=1 or a terminal would have it
        console=Console(file=screen, force_terminal=True, width=140),
    )
    result = run_with_workers(scenario, shown, 2)
    assert result.exit_code == 0
    output = screen.getvalue()
    sent = [int(n) for n in re.findall(r"sent (\d+)  in flight", output)]
    assert len(set(sent)) >= 3, output  # redrawn as the run went
    assert sent == sorted(sent)
    assert sent[-1] == 60
    assert "workers: 2  CPU of a core: 0: " in output
    assert re.search(r"fixed-model\s+60\s+0\s+\d+\.\d / \d+\.\d", output)
    # The summary follows the live view, and the report is the same with or without it.
    assert output.rindex("sent 60") < output.index("report: ")
    unseen = RunOptions(
        out_dir=tmp_path / "unseen", quiet=True, html=False, console=Console(quiet=True)
    )
    plain = run_with_workers(scenario, unseen, 2).report
    # Its sections and their fields (figures, and the notes a loaded machine adds, may vary).
    assert _fields(result.report) == _fields(plain)
    assert _fields(result.report["run"]) == _fields(plain["run"])
    assert _fields(result.report["models"]["fixed-model"]) == _fields(
        plain["models"]["fixed-model"]
    )


def _fields(section: dict[str, object]) -> dict[str, list[str]]:
    """A report section's keys, and the keys of each of its sections."""
    return {key: sorted(value) if isinstance(value, dict) else [] for key, value in section.items()}


def test_a_two_worker_run_prints_progress_lines_where_nothing_is_redrawn(
    endpoint: str,
    aws_env: dict[str, str],
    make_scenario: ScenarioFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Not a terminal (a CI log): a plain line every LOADGEN_PROGRESS_EVERY seconds, summed
    # over both workers, instead of silence until the summary.
    monkeypatch.setenv("LOADGEN_PROGRESS_EVERY", "1")
    monkeypatch.delenv("LOADGEN_PROGRESS", raising=False)
    scenario = make_scenario(
        target={"endpoint_url": endpoint},
        load={"rate": 20, "arrival": "constant", "requests": 80},
    )
    log = io.StringIO()
    options = RunOptions(
        out_dir=tmp_path, html=False, console=Console(file=log, force_terminal=False, width=200)
    )
    result = run_with_workers(scenario, options, 2)
    assert result.exit_code == 0
    lines = [line for line in log.getvalue().splitlines() if line.startswith("progress ")]
    assert len(lines) >= 2, log.getvalue()
    sent = [int(m.replace(",", "")) for m in re.findall(r"sent ([\d,]+)", "\n".join(lines))]
    assert sent == sorted(sent) and sent[-1] > 0
    assert all("req/s scheduled" in line for line in lines)
