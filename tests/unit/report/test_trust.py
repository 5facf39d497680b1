"""The trust assessment every summary opens with (loadgen/report/trust.py)."""

from __future__ import annotations

from typing import Any

import pytest

from loadgen.core.sample import ErrorClass, Sample
from loadgen.report.trust import assess_trust, generator_kept_up, trust_line
from tests.factories import make_report, make_sample

LOAD = {"max_in_flight": 3}


def _dropped(request_id: int) -> Sample:
    start = request_id * 1000
    return Sample(request_id, "m", "r", False, start, start, error=ErrorClass.DROPPED)


def _report(samples: list[Sample], **info: Any) -> Any:
    return make_report(samples, **{"load": LOAD, "target": {"emulated": False}, **info})


def test_a_clean_run_is_trustworthy_with_nothing_to_say() -> None:
    report = _report([make_sample(i) for i in range(1, 11)])
    trust = report["trust"]
    assert trust == {"trustworthy": True, "emulated": False, "interrupted": False, "reasons": []}
    assert trust_line(trust) == "figures trustworthy: generator kept up, nothing dropped, no errors"
    assert report["run"]["emulated"] is False


def test_dropped_requests_make_the_run_untrustworthy_with_their_count() -> None:
    samples = [make_sample(i) for i in range(1, 20)] + [_dropped(i) for i in range(20, 85)]
    trust = _report(samples)["trust"]
    assert not trust["trustworthy"]
    (dropped,) = [r for r in trust["reasons"] if r["kind"] == "dropped"]
    assert dropped["severity"] == "untrustworthy"
    assert dropped["count"] == 65
    assert "65 of 84 requests dropped (in-flight cap 3)" in dropped["message"]
    assert trust_line(trust).startswith("NOT TRUSTWORTHY: 65 of 84")
    assert not generator_kept_up(trust)
    # The drop is said once, as a drop: not again as a generator limit.
    assert [r["kind"] for r in trust["reasons"]] == ["dropped"]


def test_a_generator_behind_its_schedule_is_untrustworthy() -> None:
    late = [make_sample(i, dispatch_us=i * 1000 + 50_000) for i in range(1, 30)]  # 50 ms lag
    trust = _report(late)["trust"]
    (limited,) = trust["reasons"]
    assert (limited["kind"], limited["severity"], limited["count"]) == (
        "generator_limited",
        "untrustworthy",
        1,
    )
    assert "schedule lag p99" in limited["message"]
    assert not trust["trustworthy"]


def test_errors_throttles_and_the_emulator_are_said_but_leave_the_figures_trusted() -> None:
    samples = [make_sample(i) for i in range(1, 9)]
    samples += [
        make_sample(9, error=ErrorClass.THROTTLED),
        make_sample(10, error=ErrorClass.SERVER),
    ]
    trust = _report(samples, target={"emulated": True})["trust"]
    assert trust["trustworthy"] and trust["emulated"]
    by_kind = {r["kind"]: r for r in trust["reasons"]}
    assert list(by_kind) == ["errors", "throttled", "emulated"]  # warnings before information
    assert (by_kind["errors"]["count"], by_kind["throttled"]["count"]) == (1, 1)
    assert by_kind["errors"]["message"] == "1 error of 10 sent (10.0%)"
    assert by_kind["emulated"]["severity"] == "info"
    assert generator_kept_up(trust)
    assert trust_line(trust).startswith("figures trustworthy: 1 error of 10 sent")


@pytest.mark.parametrize(
    ("stopped_in", "severity", "trustworthy"),
    [
        ("load", "untrustworthy", False),
        ("scoring", "warning", True),
        (None, "untrustworthy", False),
    ],
)
def test_a_stop_during_the_load_voids_the_figures_a_later_one_does_not(
    stopped_in: str | None, severity: str, trustworthy: bool
) -> None:
    report = _report([make_sample(i) for i in range(1, 6)], status="interrupted", cancelled=2)
    report["run"]["stopped_in"] = stopped_in
    trust = assess_trust(report)
    (stop,) = trust["reasons"]
    assert (stop["kind"], stop["severity"], stop["count"]) == ("interrupted", severity, 2)
    assert trust["interrupted"]
    assert trust["trustworthy"] is trustworthy
    # A stop has an exit code of its own: --fail-on-limited is about the generator only.
    assert generator_kept_up(trust)
