"""Guards that stop a run which would only burn quota and money: the circuit breaker."""

from __future__ import annotations

from collections import deque

from loadgen.config.scenario import CircuitBreakerSpec
from loadgen.core.sample import ErrorClass, Sample


class CircuitBreaker:
    """Trips when the share of failed requests over a sliding window of completions passes a
    limit. Throttles are left out unless asked for: they are what a capacity test looks for,
    and Bedrock does not bill them."""

    def __init__(self, spec: CircuitBreakerSpec) -> None:
        self._spec = spec
        self._window_us = round(spec.window * 1e6)
        self._recent: deque[tuple[int, bool]] = deque()  # (end_us, failed), oldest first
        self._failed = 0

    def observe(self, sample: Sample) -> str | None:
        """The reason to stop, or None. Call once per finished sample."""
        limit = self._spec.error_rate
        if limit is None or sample.warmup or sample.end_us is None:
            return None
        if sample.error in (ErrorClass.DROPPED, ErrorClass.CANCELLED):
            return None  # not the endpoint's failure: never sent, or stopped by the run
        failed = sample.error is not None and (
            self._spec.count_throttles or sample.error is not ErrorClass.THROTTLED
        )
        self._recent.append((sample.end_us, failed))
        self._failed += failed
        while self._recent and self._recent[0][0] < sample.end_us - self._window_us:
            _, old_failed = self._recent.popleft()
            self._failed -= old_failed
        count = len(self._recent)
        if count >= self._spec.min_requests and self._failed / count > limit:
            return (
                f"circuit breaker: {self._failed} of the last {count} requests failed within "
                f"{self._spec.window:g} s, above the limit of {limit:.0%} "
                "(circuit_breaker in the scenario)"
            )
        return None
