"""`loadgen sweep` end to end against the emulator, whose capacity is known from its profile."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import loadgen

SLOTS = 3
TTFT_MS, ITL_MS, TOKENS = 50, 10, 11


def _scenario(tmp_path: Path, **changes: Any) -> Path:
    data: dict[str, Any] = {
        "name": "sweep-test",
        "models": ["slotted-model"],
        "prompt": {"template": "Summarise: {body}"},
        "dataset": {"rows": [{"id": "a", "body": "word " * 20}]},
        "inference": {"max_tokens": 50},
        "load": {"rate": 1, "arrival": "constant", "duration": "1s"},
        "cost": {"allow_unpriced": True},
        "emulator": {
            "profiles": {
                "slotted-model": {
                    "ttft_ms": TTFT_MS,
                    "itl_ms": ITL_MS,
                    "output_tokens": TOKENS,
                    # Beyond the slots, a short queue; past it, 503s end an overloaded stage
                    # quickly instead of draining a long queue.
                    "capacity": {"slots": SLOTS, "queue_limit": 3 * SLOTS},
                    "quota": {"rpm": 6000},
                }
            }
        },
        # Generous on purpose: below capacity the TTFT stays near 50 ms; above it the queue
        # grows without bound, which the sweep sees as saturation.
        "thresholds": ["ttft.p95 < 300ms", "error_rate < 1%"],
        "sweep": {"stage_duration": "2s", "stage_warmup": "0.5s", "precision": 0.06},
        "seed": 1,
        **changes,
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_sweep_finds_the_emulators_capacity_within_10_percent(tmp_path: Path) -> None:
    # A request holds a slot from admission to its last byte: the first token after TTFT, then
    # one token every ITL. N slots serve at most N / S requests per second.
    service_s = (TTFT_MS + (TOKENS - 1) * ITL_MS) / 1000
    capacity = SLOTS / service_s  # 20 req/s
    out = tmp_path / "out"
    scenario = _scenario(
        tmp_path,
        sweep={
            "stage_duration": "2s",
            "stage_warmup": "0.5s",
            "start_rate": capacity / 2,
            "factor": 1.5,
            "precision": 0.06,
            "max_lag_p99": "100ms",  # the shared CI machine stalls now and then
        },
    )
    # Stages of 2 s hold 20 to 60 requests: judged as they are (docs/sweep.md, the minimum).
    completed = loadgen(
        "sweep", str(scenario), "--emulate", "--out", str(out), "--min-stage-requests", "20",
        timeout=180,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    document = json.loads((out / "sweep.json").read_text())
    summary = document["sweep"]
    model = summary["models"]["slotted-model"]
    highest = model["highest_slo_rps"]
    assert highest is not None and abs(highest - capacity) / capacity <= 0.10, model["stages"]
    # Every stage is a run of its own, with its report kept.
    for stage in model["stages"]:
        report = json.loads((Path(stage["out_dir"]) / "report.json").read_text())
        assert report["run"]["load"]["rate"] == stage["rate"]
        assert report["run"]["load"]["duration"] == 2.0
    assert any(s["saturated"] for s in model["stages"])  # it went past the capacity
    best = model["at_highest_slo"]
    assert best["requests_per_minute"] == pytest.approx(highest * 60)
    assert best["goodput_rps"] == pytest.approx(highest, rel=0.1)
    assert model["quota"]["source"] == "emulator" and model["quota"]["rpm"] == 6000
    assert best["quota_rpm_share"] == pytest.approx(highest * 60 / 6000, rel=1e-3)
    assert best["tokens_per_minute"] > best["requests_per_minute"] * TOKENS
    assert model["knee_rps"] is not None and model["knee_rps"] <= capacity * 1.1
    assert "highest good" in completed.stdout
    assert f"meets the SLOs (ttft.p95 < 300ms, error_rate < 1%) up to {highest:g}" in (
        completed.stdout
    )


def test_a_stage_that_misses_its_slos_is_data_not_a_failure(tmp_path: Path) -> None:
    out = tmp_path / "out"
    scenario = _scenario(tmp_path, thresholds=["ttft.p50 < 1ms"])
    completed = loadgen(
        "sweep", str(scenario), "--emulate", "--out", str(out), "--rates", "2,4",
        "--stage-duration", "1s", "--stage-warmup", "0s", "--quota-rpm", "600",
        "--quota-tpm", "100000", "--min-stage-requests", "2",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    model = json.loads((out / "sweep.json").read_text())["sweep"]["models"]["slotted-model"]
    assert [s["rate"] for s in model["stages"]] == [2, 4]
    assert all(s["failed_checks"] == ["ttft.p50 < 1ms"] for s in model["stages"])
    assert all(not s["meets_slos"] and not s["saturated"] for s in model["stages"])
    assert model["highest_slo_rps"] is None and model["at_highest_slo"] is None
    # The emulator's own quota wins under --emulate; the flags are for a real account.
    assert model["quota"]["rpm"] == 6000
    for stage in model["stages"]:
        run = json.loads((Path(stage["out_dir"]) / "report.json").read_text())
        assert run["thresholds"]["passed"] is False  # its run exited 99; the sweep went on


def test_quota_flags_are_the_quota_of_a_real_account(tmp_path: Path) -> None:
    from loadgen.capacity.sweep import _quota
    from loadgen.config.scenario import load_scenario

    scenario = load_scenario(_scenario(tmp_path), {"sweep": {"quota": {"rpm": 600}}})
    assert _quota(scenario, "slotted-model", emulate=False) == {
        "source": "scenario",
        "rpm": 600,
        "tpm": None,
        "output_burndown": 1.0,
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--rates", "1,two"], "--rates"),
        (["--rates", "0,1"], "--rates"),
        (["--stage-duration", "-1s"], "--stage-duration"),
    ],
)
def test_bad_sweep_options_exit_2_and_name_the_flag(
    tmp_path: Path, args: list[str], message: str
) -> None:
    completed = loadgen("sweep", str(_scenario(tmp_path)), "--emulate", *args)
    assert completed.returncode == 2, completed.stderr
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr
