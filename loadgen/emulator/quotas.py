"""Bedrock's per-model quotas as token buckets, by AWS's rules (docs/quotas.md).

"How tokens are counted in Amazon Bedrock": at the start of a request, its input tokens plus
max_tokens are deducted from the tokens-per-minute and tokens-per-day quotas, and the request
is throttled if that would exceed either; at the end, the request's usage is settled to
input + cache-write + output x the model's burndown rate, and what it reserved beyond that is
given back. Cache reads never count (AWS's agent toolkit: "they do not contribute to
reservation or settlement"); cache writes count at both ends. The burndown rate multiplies
output at settlement only, never the reservation, so settlement can take more than was
reserved as well as give back. Bedrock also adjusts the reservation while the output streams;
the emulator settles once, at the end.

A request over any bucket is refused with 429 ThrottlingException. Time comes from an injected
clock (seconds), so tests can run the buckets in virtual time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal

from loadgen.emulator.profiles import Quota

Refusal = Literal["rpm", "tpm", "tpd"]
REFUSALS: tuple[Refusal, ...] = ("rpm", "tpm", "tpd")
DAY_S = 86_400.0


def reservation(input_tokens: int, max_tokens: int, cache_write_tokens: int = 0) -> int:
    """What a request takes from TPM and TPD when it starts: input (cache writes included,
    cache reads not) + max_tokens. The burndown rate does not multiply it."""
    return input_tokens + cache_write_tokens + max_tokens


def settlement(
    input_tokens: int, output_tokens: int, output_burndown: float, cache_write_tokens: int = 0
) -> int:
    """What a request has used once it ends: input + cache write + output x burndown."""
    return input_tokens + cache_write_tokens + math.ceil(output_tokens * output_burndown)


class TokenBucket:
    """Refills at per_period / period_s a second, holds at most burst_s seconds of refill (at
    least one unit), and starts full. Its level may go below zero: a settlement that takes
    more than was reserved is owed, and the bucket refuses until it has refilled."""

    def __init__(self, per_period: float, burst_s: float, now: float, period_s: float = 60.0):
        self.rate = per_period / period_s
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

    def adjust(self, amount: float, now: float) -> None:
        """Give back `amount` (never past full), or take it when negative."""
        self._refill(now)
        self.level = min(self.capacity, self.level + amount)


def day_bucket(quota: Quota, now: float) -> TokenBucket | None:
    """A model's tokens-per-day bucket (a day's quota, refilling over a day); None: no TPD."""
    return None if quota.tpd is None else TokenBucket(quota.tpd, DAY_S, now, period_s=DAY_S)


class QuotaGate:
    """One quota pool of one model: its RPM and TPM buckets, and the model's TPD bucket (shared
    by all its pools, so passed in). A request takes from every bucket or from none."""

    def __init__(
        self, quota: Quota, clock: Callable[[], float], day: TokenBucket | None = None
    ) -> None:
        self.quota = quota
        self._clock = clock
        now = clock()
        self.requests = TokenBucket(quota.rpm, quota.burst_s, now) if quota.rpm else None
        self.tokens = TokenBucket(quota.tpm, quota.burst_s, now) if quota.tpm else None
        self.day = day if day is not None else day_bucket(quota, now)
        self.admitted = 0
        self.throttled: dict[Refusal, int] = dict.fromkeys(REFUSALS, 0)
        self.reserved_tokens = 0
        self.settled_tokens = 0

    def reservation(self, input_tokens: int, max_tokens: int, cache_write: int = 0) -> int:
        return reservation(input_tokens, max_tokens, cache_write)

    def usage(self, input_tokens: int, output_tokens: int, cache_write: int = 0) -> int:
        return settlement(input_tokens, output_tokens, self.quota.output_burndown, cache_write)

    def admit(self, reserved_tokens: int) -> Refusal | None:
        """None when admitted (every bucket charged), else the quota that refused it."""
        now = self._clock()
        refusal: Refusal | None = None
        if self.requests is not None and not self.requests.has(1, now):
            refusal = "rpm"
        elif self.tokens is not None and not self.tokens.has(reserved_tokens, now):
            refusal = "tpm"
        elif self.day is not None and not self.day.has(reserved_tokens, now):
            refusal = "tpd"
        if refusal is not None:
            self.throttled[refusal] += 1
            return refusal
        if self.requests is not None:
            self.requests.take(1)
        for bucket in (self.tokens, self.day):
            if bucket is not None:
                bucket.take(reserved_tokens)
        self.admitted += 1
        self.reserved_tokens += reserved_tokens
        return None

    def settle(self, reserved_tokens: int, used_tokens: int) -> None:
        """Replace the reservation with what the request used: the difference comes back, or,
        when it used more (output burns down faster than it was reserved), is taken."""
        now = self._clock()
        for bucket in (self.tokens, self.day):
            if bucket is not None:
                bucket.adjust(reserved_tokens - used_tokens, now)
        self.settled_tokens += used_tokens

    def stats(self) -> dict[str, Any]:
        return {
            "rpm": self.quota.rpm,
            "tpm": self.quota.tpm,
            "tpd": self.quota.tpd,
            "burst_s": self.quota.burst_s,
            "output_burndown": self.quota.output_burndown,
            "admitted": self.admitted,
            "throttled": dict(self.throttled),
            "reserved_tokens": self.reserved_tokens,
            "settled_tokens": self.settled_tokens,
        }
