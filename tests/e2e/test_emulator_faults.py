"""Every fault through loadgen's own run, over the wire: each lands in its error class, and
none crashes or stalls the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.run import RunOptions, run_async
from tests.conftest import ScenarioFactory
from tests.emulator_log import EmulatorLog, percentile

QUICK = {"ttft_ms": 10, "itl_ms": 2, "output_tokens": 8, "tokens_per_delta": 1}
EXPECTED = {
    "throttle": "throttled",
    "throttle_midstream": "throttled",
    "server_error": "server",
    "unavailable": "server",
    "model_error": "server",
    "model_stream_error": "server",
    "cut_stream": "protocol",
    "drop_connection": "connection",
    "bad_checksum": "protocol",
}


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator") / "requests.jsonl"


@pytest.fixture(scope="module")
def emulator(log_path: Path) -> Iterator[EmulatorProcess]:
    profiles: dict[str, Any] = {
        f"{kind}-model": {**QUICK, "faults": {kind: 1.0}} for kind in EXPECTED
    }
    profiles["slow_trickle-model"] = {
        **QUICK,
        "itl_ms": 5,
        "faults": {"slow_trickle": 1.0, "trickle_factor": 10},
    }
    profiles["plain-model"] = {**QUICK, "itl_ms": 5}
    config = EmulatorConfig.model_validate({"profiles": profiles})
    with EmulatorProcess(config, log_path=log_path) as process:
        yield process


@pytest.fixture(scope="module")
def endpoint(emulator: EmulatorProcess) -> str:
    return emulator.url


async def _run(make_scenario: ScenarioFactory, url: str, model: str, out: Path) -> Any:
    scenario = make_scenario(
        models=[model], target={"endpoint_url": url}, load={"rate": 20, "requests": 4}
    )
    options = RunOptions(out_dir=out, quiet=True, console=Console(quiet=True), preflight=False)
    return (await run_async(scenario, options)).report["models"][model]


@pytest.mark.parametrize("kind", list(EXPECTED))
async def test_each_fault_lands_in_its_class(
    endpoint: str,
    aws_env: dict[str, str],
    make_scenario: ScenarioFactory,
    tmp_path: Path,
    kind: str,
) -> None:
    model = await _run(make_scenario, endpoint, f"{kind}-model", tmp_path)
    errors = model["requests"]["errors"]
    assert errors[EXPECTED[kind]] == 4, errors
    assert sum(errors.values()) == 4


async def test_slow_trickle_is_slow_not_an_error(
    endpoint: str,
    emulator: EmulatorProcess,
    log_path: Path,
    aws_env: dict[str, str],
    make_scenario: ScenarioFactory,
    tmp_path: Path,
) -> None:
    log = EmulatorLog(log_path, emulator.stats)
    mark = log.mark()
    slow = await _run(make_scenario, endpoint, "slow_trickle-model", tmp_path / "slow")
    plain = await _run(make_scenario, endpoint, "plain-model", tmp_path / "plain")
    assert slow["requests"]["ok"] == plain["requests"]["ok"] == 4
    # The client's ITL against the gaps the emulator planned (its log), not the profile's: the
    # deltas are due at absolute instants, so at the median a busy machine does not move them.
    gaps = {}
    for model in ("slow_trickle-model", "plain-model"):
        lines = log.lines(mark, model=model, outcome=None)
        assert len(lines) == 4, model
        gaps[model] = percentile((gap for line in lines for gap in line["gaps_ms"]), 50)
    assert gaps["slow_trickle-model"] >= 5 * gaps["plain-model"]  # the trickle: 10 x slower
    assert slow["latency_ms"]["itl"]["p50"] == pytest.approx(gaps["slow_trickle-model"], abs=5)
    assert plain["latency_ms"]["itl"]["p50"] == pytest.approx(gaps["plain-model"], abs=2)
