"""What `max_tokens` would fit more requests in the same quota, from the answers a sweep saw.

Every request reserves input + max_tokens from the tokens-per-minute quota when it starts and
gives back what it did not use when it ends (docs/quotas.md). A max_tokens far above the
longest answer holds quota for nothing while requests are in flight: a minute's quota
reserves for TPM / (input + max_tokens) requests, and that is what binds while requests start
faster than they settle (a burst, a fresh minute, long answers). What a steady rate drains is
the settled tokens, which max_tokens does not change; the advice says both.

The suggestion covers the answers measured: the p99 of the successful answers' output tokens
plus a margin, and never below the longest answer seen, rounded up. Where answers stopped at
max_tokens, a lower one would cut more of them, and none is suggested.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from loadgen.capacity.quota_window import WINDOW_S
from loadgen.capacity.stage import StageResult
from loadgen.report.html.tables import fmt

MARGIN = 0.25  # above the p99 answer: answers vary from run to run, and a cut one is lost
ROUND_TO = 10  # tokens


def suggested_max_tokens(output_p99: float, output_max: int) -> int:
    """The p99 answer plus MARGIN, at least the longest answer, rounded up to ROUND_TO."""
    wanted = max(output_p99 * (1 + MARGIN), float(output_max))
    return max(ROUND_TO, math.ceil(wanted / ROUND_TO) * ROUND_TO)


def max_tokens_advice(stages: Sequence[StageResult], tpm: int | None) -> dict[str, Any] | None:
    """The advice for one model's stages; None when no stage measured answers."""
    measured = [
        s
        for s in stages
        if s.max_tokens is not None
        and s.output_tokens_p99 is not None
        and s.output_tokens_max is not None
    ]
    if not measured:
        return None
    max_tokens = max(s.max_tokens or 0 for s in measured)
    p99 = max(s.output_tokens_p99 or 0.0 for s in measured)
    longest = max(s.output_tokens_max or 0 for s in measured)
    reached = sum(s.reached_max_tokens for s in measured)
    reserved = _mean([s.window.use.reserved_per_request for s in measured if s.window])
    settled = _mean([s.window.use.settled_per_request for s in measured if s.window])
    advice: dict[str, Any] = {
        "max_tokens": max_tokens,
        "output_tokens_p99": p99,
        "output_tokens_max": longest,
        "reached_max_tokens": reached,
        "suggested_max_tokens": None,
        "reserved_per_request": None if reserved is None else round(reserved, 1),
        "suggested_reserved_per_request": None,
        "requests_per_minute_reserved": None,
        "suggested_requests_per_minute_reserved": None,
        "more_requests_per_minute": None,
        "sustained_requests_per_minute": (
            None if not tpm or not settled else round(tpm / settled, 1)
        ),
        "text": "",
    }
    answers = f"p99 answer {fmt(p99)} tokens, longest {fmt(longest)}"
    if reached:
        advice["text"] = (
            f"keep max_tokens {fmt(max_tokens)}: {fmt(reached)} answer(s) stopped at it "
            f"({answers}); a lower one would cut more of them"
        )
        return advice
    suggested = suggested_max_tokens(p99, longest)
    if suggested >= max_tokens:
        advice["text"] = (
            f"max_tokens {fmt(max_tokens)} is already close to the answers ({answers}): "
            f"a lower one would not fit more requests in the quota"
        )
        return advice
    advice["suggested_max_tokens"] = suggested
    change = (
        f"max_tokens {fmt(max_tokens)} → {fmt(suggested)} ({answers}; p99 + "
        f"{MARGIN:.0%}): each request reserves {fmt(max_tokens - suggested)} fewer tokens"
    )
    if not tpm or reserved is None:
        advice["text"] = change
        return advice
    lower = reserved - max_tokens + suggested
    now, then = tpm / reserved, tpm / lower
    advice.update(
        suggested_reserved_per_request=round(lower, 1),
        requests_per_minute_reserved=round(now, 1),
        suggested_requests_per_minute_reserved=round(then, 1),
        more_requests_per_minute=round(then - now, 1),
    )
    text = (
        f"{change}; a minute's TPM quota then reserves for {fmt(round(then))} requests "
        f"instead of {fmt(round(now))} (+{fmt(round(then - now))} a minute), which binds while "
        f"requests start faster than they settle"
    )
    sustained = advice["sustained_requests_per_minute"]
    if sustained is not None:
        text += (
            f"; steadily, settlement allows {fmt(round(sustained))} a minute "
            f"({fmt(round(sustained / WINDOW_S, 1))} req/s) either way"
        )
    advice["text"] = text
    return advice


def _mean(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else None
