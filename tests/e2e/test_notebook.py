"""loadgen.notebook against the emulator: the example notebook executed headless in a real
Jupyter kernel (nbclient), and run_sync / run inside a running event loop, as a cell has one."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import nbformat
import pytest
import yaml
from nbclient import NotebookClient

import loadgen.notebook as lg
from tests.helpers import REPO

NOTEBOOK = REPO / "examples" / "email_study.ipynb"
KERNEL = "loadgen-notebook-test"
PNG = b"\x89PNG\r\n\x1a\n"

# A fast model: each request takes some 10 ms, so that runs end in about a second.
SCENARIO: dict[str, Any] = {
    "name": "notebook",
    "models": ["fixed-model"],
    "prompt": {"template": "Summarise: {body}"},
    "dataset": {"rows": [{"id": f"r{i}", "body": "word " * (5 + i)} for i in range(5)]},
    "inference": {"max_tokens": 50},
    "load": {"rate": 2, "arrival": "constant", "requests": 4},
    "cost": {"allow_unpriced": True},
    "emulator": {"profiles": {"fixed-model": {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 8}}},
    "seed": 1,
}


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernel spec that runs this Python (the venv's, where loadgen is installed), found
    through JUPYTER_PATH; Jupyter's and IPython's files kept in tmp_path."""
    prefix = tmp_path / "jupyter"
    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--prefix", str(prefix), "--name", KERNEL],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("JUPYTER_PATH", str(prefix / "share" / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # where the notebook's run writes its folder
    return KERNEL


def outputs(book: nbformat.NotebookNode, kind: str) -> list[Any]:
    return [
        output["data"][kind]
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if kind in output.get("data", {})
    ]


@pytest.mark.timeout(240)
def test_the_email_study_notebook_runs_headless_and_shows_tables_and_charts(
    kernel: str, aws_env: dict[str, str]
) -> None:
    book = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in book.cells)  # committed with outputs cleared
    client = NotebookClient(
        book,
        kernel_name=kernel,
        timeout=180,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell's traceback, if a cell fails

    scenario = yaml.safe_load((REPO / "scenarios" / "email_summary.yaml").read_text("utf-8"))
    tables = outputs(book, "text/html")
    stats, tradeoff, requirements = tables[0], tables[1], tables[2]
    for model in scenario["models"]:
        assert model in stats and model in tradeoff and model in requirements
    assert "ttft_p95_ms" in stats and "quality_mean" in stats
    assert "pareto" in tradeoff
    for requirement in scenario["requirements"]:
        assert requirement.replace("<", "&lt;").replace(">", "&gt;") in requirements
    printed = "".join(
        output.get("text", "")
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output["output_type"] == "stream"
    )
    assert "Pareto front" in printed
    # The trade-off, the latency CDFs, the throughput, and a spectrum per model.
    images = [base64.b64decode(image) for image in outputs(book, "image/png")]
    assert len(images) == 3 + len(scenario["models"])
    assert all(image.startswith(PNG) for image in images)
    assert outputs(book, "text/plain")[-1] == "True"  # the saved run reads back the same


def test_run_sync_inside_a_running_loop_runs_the_scenario_to_its_end(tmp_path: Path) -> None:
    """As a notebook cell calls it: synchronously, from inside a running event loop."""

    async def cell() -> lg.Result:
        return lg.run_sync(
            SCENARIO,
            emulate=True,
            requests=6,
            out=tmp_path / "run",
            preflight=False,
            html=False,
            overrides={"load": {"rate": 20}},
        )

    result = asyncio.run(cell())
    assert result.status == "completed" and result.exit_code == 0
    load = result.report["run"]["load"]
    assert (load["rate"], load["requests"]) == (20, 6)
    samples = result.samples()
    assert len(samples) == 6 and samples["ttft_service_us"].notna().all()
    emulator = result.report["run"]["emulator"]
    assert emulator is not None and emulator["requests"] == len(samples)  # its own count
    assert lg.load(result.out_dir).report == result.report


async def test_run_awaited_in_the_callers_loop(tmp_path: Path) -> None:
    result = await lg.run(SCENARIO, emulate=True, out=tmp_path / "run", html=False)
    assert result.status == "completed"
    assert result.stats().loc["fixed-model", "sent"] == SCENARIO["load"]["requests"]


def test_interrupting_run_sync_stops_the_run_and_keeps_its_report(tmp_path: Path) -> None:
    """Ctrl-C, or Jupyter's "interrupt the kernel", while run_sync waits in a cell: the run on
    its worker thread stops sending, and its report is written, as `loadgen run` does."""
    out = tmp_path / "run"
    samples = out / "samples.jsonl"
    done = threading.Event()

    def interrupt_once_requests_came_back() -> None:
        while not done.wait(0.05):
            if samples.is_file() and len(samples.read_bytes().splitlines()) >= 3:
                os.kill(os.getpid(), signal.SIGINT)  # to the main thread, waiting in run_sync
                return

    async def cell() -> lg.Result:
        return lg.run_sync(
            SCENARIO, emulate=True, duration="60s", rps=10, out=out, preflight=False, html=False
        )

    # A loop run as a kernel runs its own: without asyncio.run's SIGINT handler, so that the
    # interrupt is a KeyboardInterrupt in the waiting cell.
    loop = asyncio.new_event_loop()
    interrupter = threading.Thread(target=interrupt_once_requests_came_back, daemon=True)
    interrupter.start()
    try:
        result = loop.run_until_complete(cell())
    finally:
        done.set()
        interrupter.join()
        loop.close()
    run = result.report["run"]
    assert (run["status"], run.get("stopped_in")) == ("interrupted", "load")
    assert result.exit_code == 130
    assert 3 <= len(result.samples()) < 600  # stopped long before the 60 s were sent
    assert lg.load(out).status == "interrupted"  # the report was written
