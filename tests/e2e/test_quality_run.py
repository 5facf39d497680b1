"""Quality scoring in real runs: timing unaffected, the verdict on screen and in report.json,
and --no-quality."""

from __future__ import annotations

import json
import operator
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from loadgen.core.sample import read_samples
from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.run import RunOptions, run_async
from tests.conftest import ScenarioFactory
from tests.emulator_log import EmulatorLog, check_latencies_against_log
from tests.helpers import loadgen

FIXED = {"ttft_ms": 200, "itl_ms": 20, "output_tokens": 50, "tokens_per_delta": 1}
MODELS = (
    "us.amazon.nova-lite-v1:0",
    "us.amazon.nova-pro-v1:0",
    "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
)
OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator") / "requests.jsonl"


@pytest.fixture(scope="module")
def emulator(log_path: Path) -> Iterator[EmulatorProcess]:
    config = EmulatorConfig.model_validate({"seed": 3, "profiles": {"fixed-model": FIXED}})
    with EmulatorProcess(config, log_path=log_path) as process:
        yield process


async def test_latencies_stay_accurate_with_quality_scoring_on(
    emulator: EmulatorProcess,
    log_path: Path,
    aws_env: dict[str, str],
    make_scenario: ScenarioFactory,
    tmp_path: Path,
) -> None:
    # The accuracy test of test_end_to_end.py, with rows that carry references: every
    # response's text is kept during the run and scored after it.
    rows = [
        {
            "id": f"r{i}",
            "body": "word " * (10 + i),
            "key_facts": {"people": ["Ada"], "amounts": ["$1.92M"]},
            "reference_summary": "Ada reports $1.92M.",
        }
        for i in range(5)
    ]
    scenario = make_scenario(
        target={"endpoint_url": emulator.url},
        dataset={"rows": rows},
        load={"rate": 8, "arrival": "poisson", "requests": 100},
    )
    # --keep-text: the texts scored are in samples.jsonl too, to be checked below.
    options = RunOptions(out_dir=tmp_path, quiet=True, console=Console(quiet=True), keep_text=True)
    log = EmulatorLog(log_path, emulator.stats)
    mark = log.mark()
    result = await run_async(scenario, options)
    model = result.report["models"]["fixed-model"]
    latency = model["latency_ms"]
    assert model["requests"]["ok"] == 100
    # The same bounds as the test without scoring: against what the emulator did (its log).
    lines = log.lines(mark, model="fixed-model", output_tokens=50)
    assert len(lines) == 100
    check_latencies_against_log(latency, lines, emulator.stats())
    assert model["quality"]["scored"] == 100
    texts = [s.response_text for s in read_samples(tmp_path / "samples.jsonl")]
    # 50 one-token deltas of the emulator's words, joined as they arrived.
    assert all(t is not None and len(t.split()) == 50 for t in texts)


@pytest.fixture
def email_run(email_summary_run: tuple[Any, Path]) -> tuple[Any, dict[str, Any], Path]:
    """The bundled study as the README runs it (tests/conftest.py), shared with test_cli.py:
    its quality scoring and verdict are read here."""
    completed, out = email_summary_run
    assert completed.returncode == 0, completed.stderr
    return completed, json.loads((out / "report.json").read_text()), out


def test_the_email_study_ends_with_comparison_and_verdict(
    email_run: tuple[Any, dict[str, Any], Path],
) -> None:
    completed, report, out = email_run
    stdout = completed.stdout
    assert "verdict per model" in stdout
    assert "Pareto front (cost_per_1k, ttlt_p95_ms, quality_mean)" in stdout
    verdict = report["verdict"]
    assert verdict["requirements"] == [
        "ttft.p95 <= 1s",
        "ttlt.p95 <= 6s",
        "quality >= 0.7",
        "cost_per_1k <= 2.00",
    ]
    assert set(verdict["models"]) == set(MODELS)
    for model in MODELS:
        quality = report["models"][model]["quality"]
        assert quality["scored"] == report["models"][model]["requests"]["ok"] > 0
        assert set(quality["score"]) == {"mean", "p10", "p50"}
        assert 0 <= quality["score"]["mean"] <= 1
        assert quality["worst"] and "missing_facts" in quality["worst"][0]
        data = verdict["models"][model]
        assert data["quality_mean"] == quality["score"]["mean"]
        assert len(data["requirements"]) == 4
        for result in data["requirements"]:
            # The verdict follows the requirement, on the very figure the report shows.
            assert result["measured"] is not None
            assert result["passed"] == OPS[result["op"]](result["measured"], result["limit"])
            word = "met" if result["passed"] else "MISSED"
            assert f"{result['check']} {word}" in " ".join(stdout.split())
        assert data["meets_all"] == (model in verdict["meeting_all"])
    assert set(verdict["pareto"]["front"]) <= set(MODELS) and verdict["pareto"]["front"]
    # Scored from the texts the run kept in memory: without --keep-text none is written.
    lines = (out / "samples.jsonl").read_text().splitlines()
    assert lines and not any("response_text" in json.loads(line) for line in lines)
    # The emulator's extractive summaries follow each profile's fidelity (Nova Lite 0.6,
    # Nova Pro 0.9, Claude 3.7 Sonnet 1.0), so the study tells the models apart by quality too.
    means = {m: report["models"][m]["quality"]["score"]["mean"] for m in MODELS}
    lite, pro, claude = (means[m] for m in MODELS)
    assert lite + 0.05 < pro and lite + 0.05 < claude, means


def test_no_quality_skips_scoring_and_keeps_no_text(tmp_path: Path) -> None:
    # The study's quickest model alone: the run ends with its last answer, about 1.5 s after
    # the last request, not the 4 to 5 s of the slowest.
    completed = loadgen(
        "run",
        "scenarios/email_summary.yaml",
        "--model",
        "us.amazon.nova-lite-v1:0",
        "--rps",
        "5",
        "--duration",
        "2s",
        "--emulate",
        "--no-quality",
        "--out",
        str(tmp_path),
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert all(m["quality"] is None for m in report["models"].values())
    for data in report["verdict"]["models"].values():
        quality = next(r for r in data["requirements"] if r["metric"] == "quality")
        assert (quality["passed"], quality["reason"]) == (False, "no data for this metric")
    assert report["verdict"]["pareto"]["axes"] == ["cost_per_1k", "ttlt_p95_ms"]
    assert all(s.response_text is None for s in read_samples(tmp_path / "samples.jsonl"))
