"""Regression tests of issue 17's cost defects, one per defect, each failing on the code that
had it: per-1k figures that count throttled requests as free, a worst case that undercounts
CJK prompts and ignores long-context and 1-hour cache-write rates, a month of 30 days."""

from __future__ import annotations

import pytest

from loadgen.cost.accounting import CostStats, request_cost
from loadgen.cost.pricing import DEFAULT_REGION, PriceBook, ResolvedPrice
from loadgen.cost.worst_case import worst_case_cost, worst_case_input_tokens
from loadgen.engine.request import Prompt

SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
GLOBAL_SONNET_45 = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"


def builtin(model_id: str) -> ResolvedPrice:
    resolved = PriceBook.builtin().resolve(model_id, DEFAULT_REGION)
    assert resolved is not None
    return resolved


# --- defect 3: "$ per 1k requests" at 50 % throttling ---------------------------------------


def test_per_1k_answered_is_not_halved_by_throttled_requests() -> None:
    # 100 requests: 50 answered at 0.002 USD each, 50 throttled (not billed: 0 USD).
    stats = CostStats()
    for _ in range(50):
        stats.add(0.002, True)
    for _ in range(50):
        stats.add(0.0, False)
    summary = stats.summary(window_s=10.0, ok_requests=50, tested_rps=None, project_rps=None)
    # What an answer costs: 0.1 USD spent / 50 answers x 1,000 = 2.0 USD per 1k answers;
    # per request sent it is half that, 0.1 / 100 x 1,000 = 1.0.
    assert summary["per_1k_answered_usd"] == pytest.approx(2.0)
    assert summary["per_1k_sent_usd"] == pytest.approx(1.0)


# --- defect 5: the budget guard's worst case -------------------------------------------------


def test_the_worst_case_never_counts_fewer_tokens_than_a_cjk_prompt_has() -> None:
    # 3,000 CJK characters: a byte-level BPE tokenizer can spend up to 3 tokens on each (one per
    # UTF-8 byte), and never fewer than one per character. characters / 3 + 50 said 1,050.
    prompt = Prompt(row_id="r", system=None, user="漢" * 3000)
    assert worst_case_input_tokens(prompt) >= 3 * 3000


def test_the_worst_case_of_a_long_prompt_takes_the_long_context_rates() -> None:
    # Global Claude Sonnet 4.5 above 200K input tokens: input 6.00 (1-hour cache write 12.00)
    # and output 22.50 per 1M, where a short prompt pays 3.00 (6.00) and 15.00.
    sonnet = builtin(GLOBAL_SONNET_45)
    long_context = sonnet.prices.long_context
    assert long_context is not None and long_context.above_input_tokens == 200_000
    # 300,000 x 12.00 + 1,000 x 22.50 = 3,622,500 per 1M -> 3.6225 USD.
    assert worst_case_cost(sonnet, 300_000, 1000) == pytest.approx(3.6225)
    # Short: 1,000 x 6.00 (the 1-hour write, dearest input rate) + 1,000 x 15.00 -> 0.021 USD.
    assert worst_case_cost(sonnet, 1000, 1000) == pytest.approx(0.021)


def test_the_worst_case_takes_the_one_hour_cache_write_rate() -> None:
    # Claude Haiku 4.5 (regional): 1-hour writes cost 2x input, 2.20 per 1M; 5-minute 1.375.
    haiku = builtin("anthropic.claude-haiku-4-5-20251001-v1:0")
    assert haiku.prices.cache_write_1h == pytest.approx(2.20)
    # 10,000 x 2.20 + 100 x 5.50 = 22,550 per 1M -> 0.02255 USD.
    assert worst_case_cost(haiku, 10_000, 100) == pytest.approx(0.02255)


def test_a_request_past_the_long_context_threshold_is_billed_at_long_context_rates() -> None:
    sonnet = builtin(GLOBAL_SONNET_45)
    # 150,000 input + 60,000 cache read = 210,000 > 200,000: every token at the long rates:
    # 150,000 x 6.00 + 60,000 x 0.60 + 2,000 x 22.50 = 981,000 per 1M -> 0.981 USD.
    cost = request_cost(sonnet, input_tokens=150_000, output_tokens=2000, cache_read_tokens=60_000)
    assert cost == pytest.approx(0.981)
    # At 200,000 exactly the standard rates hold: 200,000 x 3.00 + 2,000 x 15.00 -> 0.63 USD.
    assert request_cost(sonnet, input_tokens=200_000, output_tokens=2000) == pytest.approx(0.63)


# --- "month": 730 hours by default, as AWS's pricing calculator ------------------------------


def test_a_month_is_730_hours_unless_set() -> None:
    stats = CostStats()
    stats.add(0.001, True)
    default = stats.summary(window_s=1.0, ok_requests=1, tested_rps=1.0, project_rps=None)
    projection = default["projection"]
    assert projection["hours_per_month"] == 730
    # 0.001 USD x 1 req/s x 3,600 s x 730 h = 2,628 USD.
    assert projection["at_tested_rps"] is not None
    assert projection["at_tested_rps"]["per_month"] == pytest.approx(2628.0)
    thirty_days = stats.summary(1.0, 1, 1.0, None, hours_per_month=720)["projection"]
    assert thirty_days["hours_per_month"] == 720
    assert thirty_days["at_tested_rps"] is not None
    assert thirty_days["at_tested_rps"]["per_month"] == pytest.approx(2592.0)


def test_a_scenario_price_can_give_long_context_and_one_hour_write_rates() -> None:
    book = PriceBook.builtin().with_overrides(
        {
            "acme.long-v1": {
                "input": 1.0,
                "output": 2.0,
                "cache_write_1h": 4.0,
                "long_context": {"above_input_tokens": 1000, "input": 10.0, "output": 20.0},
            }
        }
    )
    acme = book.resolve("acme.long-v1", DEFAULT_REGION)
    assert acme is not None
    # Short: 500 x 4.00 (the 1-hour write) + 10 x 2.00 = 2,020 per 1M.
    assert worst_case_cost(acme, 500, 10) == pytest.approx(0.00202)
    # Long: 2,000 x 10.00 + 10 x 20.00 = 20,200 per 1M.
    assert request_cost(acme, input_tokens=2000, output_tokens=10) == pytest.approx(0.0202)
