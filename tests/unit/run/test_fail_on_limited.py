"""--fail-on-limited: exit 8 for a run whose generator was limited or dropped requests."""

from __future__ import annotations

from typing import Any

import pytest

from loadgen.core.sample import ErrorClass, Sample
from loadgen.run.finish import (
    EXIT_INTERRUPTED,
    EXIT_NOT_TRUSTWORTHY,
    EXIT_OK,
    EXIT_THRESHOLDS,
    trusted_exit_code,
)
from tests.factories import make_report, make_sample


def _report(samples: list[Sample]) -> Any:
    return make_report(samples, load={"max_in_flight": 3}, target={"emulated": False})


def _dropped(request_id: int) -> Sample:
    start = request_id * 1000
    return Sample(request_id, "m", "r", False, start, start, error=ErrorClass.DROPPED)


@pytest.mark.parametrize(
    ("exit_code", "fail_on_limited", "expected"),
    [
        (EXIT_OK, True, EXIT_NOT_TRUSTWORTHY),
        (EXIT_THRESHOLDS, True, EXIT_NOT_TRUSTWORTHY),
        (EXIT_OK, False, EXIT_OK),
        (EXIT_THRESHOLDS, False, EXIT_THRESHOLDS),
        (EXIT_INTERRUPTED, True, EXIT_INTERRUPTED),
    ],
)
def test_fail_on_limited_turns_a_dropping_run_into_exit_8(
    exit_code: int, fail_on_limited: bool, expected: int
) -> None:
    dropping = _report([make_sample(1), make_sample(2), _dropped(3)])
    assert trusted_exit_code(exit_code, dropping, fail_on_limited) == expected
    clean = _report([make_sample(1), make_sample(2)])
    assert trusted_exit_code(exit_code, clean, fail_on_limited) == exit_code
