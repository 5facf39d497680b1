"""Fixes from review: the clock never fires early, secrets are redacted, a request that timed
out after it was sent has an unknown cost (not zero)."""

from __future__ import annotations

import asyncio
import time

import uvloop

from loadgen.core.clock import MonotonicClock
from loadgen.core.redact import redact_text, redact_url
from loadgen.core.sample import ErrorClass, Sample
from loadgen.cost.accounting import sample_cost
from loadgen.cost.pricing import PriceBook


def test_sleep_until_never_returns_before_the_instant_on_uvloop() -> None:
    async def main() -> list[int]:
        clock = MonotonicClock()
        early = []
        start = time.perf_counter_ns() + 5_000_000
        for i in range(200):
            instant = start + i * 1_300_000  # 1.3 ms apart: off uvloop's 1 ms timer grid
            await clock.sleep_until(instant)
            early.append(instant - time.perf_counter_ns())
        return early

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        early = runner.run(main())
    assert max(early) <= 0  # never before its instant


def test_redaction() -> None:
    text = (
        "InvalidSignatureException: ... x-amz-security-token:IQoJb3JpZ2luX2VjEJr "
        "Credential=AKIAABCDEFGHIJKLMNOP/20261126/us-east-1/bedrock/aws4_request, "
        "Signature=0123abcdef"
    )
    cleaned = redact_text(text)
    assert "IQoJb3JpZ2luX2VjEJr" not in cleaned
    assert "AKIAABCDEFGHIJKLMNOP" not in cleaned
    assert "0123abcdef" not in cleaned
    assert redact_url("https://user:pw@gw.example.com:8443/x") == (
        "https://[redacted]@gw.example.com:8443/x"
    )
    assert redact_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"


def test_a_request_that_timed_out_after_send_has_unknown_cost() -> None:
    price = PriceBook.builtin().resolve("amazon.nova-lite-v1:0", "us-east-1")
    base = Sample(1, "amazon.nova-lite-v1:0", "r", False, 0, 10, 20)
    timed_out = Sample(
        1,
        "amazon.nova-lite-v1:0",
        "r",
        False,
        0,
        10,
        20,
        end_us=60_000_000,
        error=ErrorClass.TIMEOUT,
        error_code="FirstTokenTimeout",
    )
    throttled = Sample(
        1,
        "amazon.nova-lite-v1:0",
        "r",
        False,
        0,
        10,
        20,
        end_us=30,
        error=ErrorClass.THROTTLED,
        http_status=429,
    )
    assert base.send_us == 20
    assert sample_cost(price, timed_out) is None  # unknown: the budget books its reservation
    assert sample_cost(price, throttled) == 0.0  # throttles are not billed
