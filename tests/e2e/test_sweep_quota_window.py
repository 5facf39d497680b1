"""The README's sweep in small: stages of a second against the emulator, whose
tokens-per-minute quota a minute-long run would hit at a known rate. The short stages never
see a 429 (a fresh bucket holds a whole minute), yet the sweep brackets the rate the quota
allows, because each stage is judged on its projected minute."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from loadgen.capacity.max_tokens_advice import suggested_max_tokens
from tests.helpers import loadgen

OUTPUT_TOKENS, MAX_TOKENS = 20, 200
# About 48 tokens settled a request (28 in, 20 out): about 10 req/s a steady rate may settle.
# The reservation (input + max_tokens, about 228) would allow a fifth of that.
TPM = 28_800


def _scenario(tmp_path: Path, emulator: dict[str, Any], **changes: Any) -> Path:
    data: dict[str, Any] = {
        "name": "quota-window",
        "models": ["us.quota-model"],
        "prompt": {"template": "Summarise: {body}"},
        "dataset": {"rows": [{"id": "a", "body": "word " * 20}]},
        "inference": {"max_tokens": MAX_TOKENS},
        "load": {"rate": 1, "arrival": "constant", "duration": "1s"},
        "cost": {"allow_unpriced": True},
        "emulator": emulator,
        "seed": 3,
        **changes,
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _profile(**quota: Any) -> dict[str, Any]:
    return {
        "ttft_ms": 20,
        "itl_ms": 5,
        "tokens_per_delta": 4,
        "output_tokens": OUTPUT_TOKENS,
        "output_tokens_jitter": 0,
        **({"quota": quota} if quota else {}),
    }


def test_short_stages_bracket_the_rate_the_quota_allows_within_10_percent(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    scenario = _scenario(
        tmp_path,
        {"profiles": {"quota-model": _profile(tpm=TPM)}},
        sweep={
            # A stage is judged on its projected minute, the same from any length: 1 s each.
            "stage_duration": "1s",
            "stage_warmup": "0.25s",
            "start_rate": 3,
            "precision": 0.05,
            "max_lag_p99": "100ms",  # the shared CI machine stalls now and then
        },
    )
    completed = loadgen(
        "sweep", str(scenario), "--emulate", "--out", str(out), "--min-stage-requests", "3",
        timeout=240,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    model = json.loads((out / "sweep.json").read_text())["sweep"]["models"]["us.quota-model"]
    stages = model["stages"]
    # The quota allows what a steady rate settles: TPM / 60 / (input + output), with the
    # tokens the emulator itself counted (the usage it answered with).
    first = json.loads((Path(stages[0]["out_dir"]) / "report.json").read_text())
    tokens = first["models"]["us.quota-model"]["tokens"]
    assert tokens["output"]["mean"] == OUTPUT_TOKENS
    allowed = TPM / 60 / (tokens["input"]["mean"] + OUTPUT_TOKENS)
    good = model["highest_slo_rps"]
    bad = min(s["rate"] for s in stages if s["verdict"] == "quota-bound")
    assert good is not None and good <= allowed <= bad, (allowed, stages)
    assert abs(good - allowed) / allowed <= 0.10 and abs(bad - allowed) / allowed <= 0.10
    # No stage ran into the quota: a fresh bucket holds a minute. The projection judged.
    assert all(s["throttle_rate"] == 0 for s in stages)
    assert all(s["window_rule"] == "projected per minute" for s in stages)
    assert all(s["fresh_window"] == "emulator quotas reset" for s in stages)
    assert {s["bound_by"] for s in stages if s["rate"] > allowed} == {"quota"}
    assert model["bound_by"] == "quota" and model["bound_at_rps"] == bad
    assert model["quota_limited_rps"] is not None
    assert abs(model["quota_limited_rps"] - allowed) / allowed < 0.01
    advice = model["max_tokens_advice"]
    assert advice["suggested_max_tokens"] == suggested_max_tokens(OUTPUT_TOKENS, OUTPUT_TOKENS)
    assert advice["more_requests_per_minute"] > 0
    assert f"bound by the quota above {good:g} req/s" in completed.stdout


def test_without_a_quota_a_short_stage_says_it_judged_latency_only(tmp_path: Path) -> None:
    out = tmp_path / "out"
    scenario = _scenario(
        tmp_path, {"quotas": {"enabled": False}, "profiles": {"quota-model": _profile()}}
    )
    completed = loadgen(
        "sweep", str(scenario), "--emulate", "--out", str(out), "--rates", "4",
        "--stage-duration", "1s", "--stage-warmup", "0s", "--min-stage-requests", "2",
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    model = json.loads((out / "sweep.json").read_text())["sweep"]["models"]["us.quota-model"]
    (stage,) = model["stages"]
    assert stage["window_rule"] == "latency only" and model["quota"]["source"] is None
    note = stage["quota_window"]["note"]
    assert note.startswith("latency only; quota not known")
    assert "a stage shorter than a minute cannot show a per-minute quota" in completed.stdout
