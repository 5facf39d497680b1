"""Bedrock's per-model quotas as token buckets: requests per minute and tokens per minute.

Bedrock reserves a request's tokens when it starts (input tokens + maxTokens, output weighted
by the model's burndown rate) and settles the difference when it ends. A request over either
bucket is refused with 429 ThrottlingException. Time comes from an injected clock (seconds),
so tests can run the buckets in virtual time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

from loadgen.emulator.profiles import Quota

Refusal = Literal["rpm", "tpm"]


class TokenBucket:
    """Refills at per_minute / 60 a second, holds at most burst_s seconds of refill (at least
    one unit), and starts full."""

    def __init__(self, per_minute: float, burst_s: float, now: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_s)
        self.level = self.capacity
        self._stamp = now

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self.level = min(self.capacity, self.level + (now - self._stamp) * self.rate)
            self._stamp = now

    def has(self, amount: float, now: float) -> bool:
        self._refill(now)
        return self.level >= amount

    def take(self, amount: float) -> None:
        self.level -= amount

    def give_back(self, amount: float, now: float) -> None:
        self._refill(now)
        self.level = min(self.capacity, self.level + amount)


class QuotaGate:
    """One model's two buckets. A request takes from both or from neither."""

    def __init__(self, quota: Quota, clock: Callable[[], float]) -> None:
        self.quota = quota
        self._clock = clock
        now = clock()
        self.requests = TokenBucket(quota.rpm, quota.burst_s, now) if quota.rpm else None
        self.tokens = TokenBucket(quota.tpm, quota.burst_s, now) if quota.tpm else None
        self.admitted = 0
        self.throttled: dict[Refusal, int] = {"rpm": 0, "tpm": 0}

    def reservation(self, input_tokens: int, max_tokens: int) -> int:
        return input_tokens + math.ceil(max_tokens * self.quota.output_burndown)

    def usage(self, input_tokens: int, output_tokens: int) -> int:
        return input_tokens + math.ceil(output_tokens * self.quota.output_burndown)

    def admit(self, reserved_tokens: int) -> Refusal | None:
        """None when admitted (both buckets charged), else the quota that refused it."""
        now = self._clock()
        refusal: Refusal | None = None
        if self.requests is not None and not self.requests.has(1, now):
            refusal = "rpm"
        elif self.tokens is not None and not self.tokens.has(reserved_tokens, now):
            refusal = "tpm"
        if refusal is not None:
            self.throttled[refusal] += 1
            return refusal
        if self.requests is not None:
            self.requests.take(1)
        if self.tokens is not None:
            self.tokens.take(reserved_tokens)
        self.admitted += 1
        return None

    def settle(self, reserved_tokens: int, used_tokens: int) -> None:
        """Give back what the request reserved and did not use."""
        if self.tokens is not None and reserved_tokens > used_tokens:
            self.tokens.give_back(reserved_tokens - used_tokens, self._clock())

    def stats(self) -> dict[str, Any]:
        return {
            "rpm": self.quota.rpm,
            "tpm": self.quota.tpm,
            "burst_s": self.quota.burst_s,
            "admitted": self.admitted,
            "throttled": dict(self.throttled),
        }
