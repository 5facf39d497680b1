"""The circuit breaker on sequences of samples."""

from __future__ import annotations

from loadgen.config.scenario import CircuitBreakerSpec
from loadgen.core.sample import ErrorClass, Sample
from loadgen.engine.guards import CircuitBreaker
from tests.factories import make_sample


def done(i: int, error: ErrorClass | None = None, end_s: float | None = None) -> Sample:
    end_us = round((end_s if end_s is not None else i * 0.01) * 1e6)
    return make_sample(
        i,
        start_us=end_us - 1000,
        dispatch_us=end_us - 900,
        send_us=end_us - 800,
        first_token_us=None,
        end_us=end_us,
        error=error,
    )


def test_trips_once_the_failed_share_passes_the_limit() -> None:
    breaker = CircuitBreaker(CircuitBreakerSpec(error_rate=0.5, window=10, min_requests=10))
    reasons = [breaker.observe(done(i, ErrorClass.SERVER if i % 3 else None)) for i in range(9)]
    assert reasons == [None] * 9  # fewer than min_requests seen
    reason = breaker.observe(done(9, ErrorClass.SERVER))
    assert reason is not None and "7 of the last 10" in reason


def test_throttles_do_not_count_unless_asked() -> None:
    spec = CircuitBreakerSpec(error_rate=0.5, window=10, min_requests=5)
    breaker = CircuitBreaker(spec)
    assert all(breaker.observe(done(i, ErrorClass.THROTTLED)) is None for i in range(20))
    counting = CircuitBreaker(spec.model_copy(update={"count_throttles": True}))
    assert any(counting.observe(done(i, ErrorClass.THROTTLED)) for i in range(20))


def test_old_failures_leave_the_window() -> None:
    breaker = CircuitBreaker(CircuitBreakerSpec(error_rate=0.5, window=1, min_requests=5))
    for i in range(4):
        assert breaker.observe(done(i, ErrorClass.SERVER, end_s=0.1 * i)) is None
    # Two seconds later the early failures are out of the window: successes do not trip it.
    assert all(breaker.observe(done(10 + i, None, end_s=2 + 0.1 * i)) is None for i in range(10))


def test_off_when_the_rate_is_null() -> None:
    breaker = CircuitBreaker(CircuitBreakerSpec(error_rate=None, min_requests=1))
    assert all(breaker.observe(done(i, ErrorClass.SERVER)) is None for i in range(100))
