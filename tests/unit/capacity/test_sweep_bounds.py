"""Per model, what bound it above its highest good rate and what max_tokens would fit more
requests in its quota; the console and sweep.html say both, and never show a rate above the
quota beside the quota without a word."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from rich.console import Console

from loadgen.capacity.console import print_sweep
from loadgen.capacity.judging import stage_bound
from loadgen.capacity.max_tokens_advice import MARGIN, max_tokens_advice, suggested_max_tokens
from loadgen.capacity.quota_window import KnownQuota, StageQuotaUse, judge_window
from loadgen.capacity.stage import StageResult
from loadgen.capacity.sweep import _model_summary, knee_rps
from loadgen.report.html.sweep import render_sweep
from tests.unit.capacity.stages import SETTINGS, make_evidence, make_stage

TPM = 4_000_000
INPUT, MAX_TOKENS, SETTLED = 407.0, 400, 495.0
QUOTA = {"source": "emulator", "rpm": None, "tpm": TPM, "output_burndown": 1.0}


def _stage(rate: float, *, p99: float = 168.0, longest: int = 201, reached: int = 0) -> StageResult:
    """A stage that kept up, judged on the quota's minute with Nova Lite's email requests."""
    use = StageQuotaUse(rate, 20.0, INPUT + MAX_TOKENS, SETTLED, 0.9)
    return dataclasses.replace(
        make_stage(rate, make_evidence(rate, round(rate * 20), 20.0)),
        window=judge_window(use, KnownQuota(tpm=TPM, source="emulator")),
        max_tokens=MAX_TOKENS,
        output_tokens_p99=p99,
        output_tokens_max=longest,
        reached_max_tokens=reached,
        quota=QUOTA,
    )


def test_the_advice_lowers_max_tokens_to_the_answers_and_counts_the_requests_it_fits() -> None:
    advice = max_tokens_advice([_stage(8.0), _stage(16.0, p99=170.0, longest=190)], TPM)
    assert advice is not None
    suggested = suggested_max_tokens(170.0, 201)
    assert suggested == 10 * math.ceil(170.0 * (1 + MARGIN) / 10) and suggested >= 201
    assert advice["suggested_max_tokens"] == suggested < MAX_TOKENS
    now, then = TPM / (INPUT + MAX_TOKENS), TPM / (INPUT + suggested)
    assert advice["requests_per_minute_reserved"] == round(now, 1)
    assert advice["suggested_requests_per_minute_reserved"] == round(then, 1)
    assert advice["more_requests_per_minute"] == round(then - now, 1) > 0
    assert advice["sustained_requests_per_minute"] == round(TPM / SETTLED, 1)
    assert advice["text"].startswith(f"max_tokens 400 → {suggested} (p99 answer 170 tokens")
    assert f"(+{round(then - now):,} a minute)" in advice["text"]


def test_no_lower_max_tokens_is_advised_where_answers_reach_it_or_fill_it() -> None:
    cut = max_tokens_advice([_stage(8.0, reached=3)], TPM)
    assert cut is not None and cut["suggested_max_tokens"] is None
    assert cut["text"].startswith("keep max_tokens 400: 3 answer(s) stopped at it")
    full = max_tokens_advice([_stage(8.0, p99=390.0, longest=399)], TPM)
    assert full is not None and full["suggested_max_tokens"] is None
    assert "already close to the answers" in full["text"]


def _printed(summary: dict[str, Any]) -> str:
    console = Console(width=220, record=True, color_system=None)
    print_sweep(summary, console, stages=True)
    return console.export_text()


def test_a_model_bound_by_its_quota_says_so_and_shows_no_rate_above_it() -> None:
    allowed = TPM / 60 / SETTLED  # 134.7 req/s
    stages = [_stage(rate) for rate in (32.0, 64.0, 128.0, 256.0, 181.0)]
    assert [s.quota_bound for s in stages] == [r > allowed for r in (32, 64, 128, 256, 181)]
    summary = _model_summary(stages, QUOTA, SETTINGS, slos=[])
    assert summary["highest_slo_rps"] == 128.0
    assert summary["bound_by"] == "quota" and summary["bound_at_rps"] == 181.0
    assert summary["window_rule"] == "projected per minute"
    assert summary["quota_limited_rps"] == round(allowed, 3)
    assert summary["at_highest_slo"]["quota_tpm_share"] <= 1
    # The quota refuses what the short stage kept up with: that is where it bent.
    assert knee_rps(sorted(stages, key=lambda s: s.rate), SETTINGS) == 128.0
    document = {"scenario": "s", "status": "completed", "warnings": [], "models": {"m": summary}}
    out = _printed(document)
    assert "bound by the quota above 128 req/s (at 181 req/s it settles" in out
    assert "quota window: projected per minute" in out
    assert "max_tokens 400 → 210" in out
    assert "quota-bound" in out and "more than the quota" not in out
    page = render_sweep({"schema_version": 3, "sweep": document})
    assert "bound by the quota above 128 req/s" in page and "max_tokens 400 → 210" in page
    assert "projected per minute" in page


def test_an_old_sweep_above_its_quota_is_not_shown_without_a_word() -> None:
    # sweep.json version 2 judged no quota windows: its 64 req/s stage "met SLOs" at 3,840
    # requests a minute beside a quota of 2,000.
    old = make_stage(64.0, thresholds_passed=True)
    quota = {"source": "emulator", "rpm": 2000, "tpm": None, "output_burndown": 1.0}
    summary = _model_summary([dataclasses.replace(old, quota=quota)], quota, SETTINGS, ["x"])
    document = {"scenario": "s", "status": "completed", "warnings": [], "models": {"m": summary}}
    out = _printed(document)
    assert "192.00% of its RPM" in out
    assert "that is more than the quota: a stage shorter than a minute cannot show" in out


@pytest.mark.parametrize(
    ("quota_bound", "reasons", "failed", "bound"),
    [
        (True, [], [], "quota"),
        (False, ["throttle rate 10.0% > 5.0%"], [], "quota"),
        (False, [], ["throttle_rate"], "quota"),
        (False, ["error rate 9.0% > 5.0%", "generator-limited: x"], [], "throughput"),
        (False, ["generator-limited: schedule lag p99 80 ms > 50 ms"], ["ttft"], "generator"),
        (False, [], ["ttft", "cost_per_1k"], "latency"),
        (False, [], ["error_rate"], "throughput"),
        (False, [], ["cost_per_1k"], "slo"),
        (False, [], [], None),
    ],
)
def test_what_bound_a_stage_strongest_cause_first(
    quota_bound: bool, reasons: list[str], failed: list[str], bound: str | None
) -> None:
    assert stage_bound(quota_bound=quota_bound, reasons=reasons, failed_metrics=failed) == bound
