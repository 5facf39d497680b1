"""Cost arithmetic, the billing rule, per-model cost statistics and the budget guard."""

from __future__ import annotations

import random
from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadgen.core.sample import ErrorClass
from loadgen.cost.accounting import (
    Billing,
    BudgetGuard,
    CostStats,
    billing,
    is_billed,
    request_cost,
    sample_cost,
)
from loadgen.cost.pricing import DEFAULT_REGION, PriceBook, ResolvedPrice, TokenPrices
from loadgen.cost.worst_case import worst_case_cost
from tests.factories import make_sample


def price(
    input: float, output: float, cache_read: float | None = None, cache_write: float | None = None
) -> ResolvedPrice:
    return ResolvedPrice(
        prices=TokenPrices(
            input=input, output=output, cache_read=cache_read, cache_write=cache_write
        ),
        model_id="m",
        catalogue_id="m",
        region=DEFAULT_REGION,
        fell_back=False,
        source="test",
        as_of=None,
    )


def builtin(model_id: str) -> ResolvedPrice:
    resolved = PriceBook.builtin().resolve(model_id, DEFAULT_REGION)
    assert resolved is not None
    return resolved


# A streamed request of 1,000 input and 500 output tokens (Nova Lite: 0.00018 USD).
sample = partial(make_sample, input_tokens=1000, output_tokens=500)


# --- request_cost ---------------------------------------------------------------------------


def test_plain_request_cost() -> None:
    # Nova Lite: 1,000 x 0.06 / 1M + 500 x 0.24 / 1M = 0.00006 + 0.00012 = 0.00018 USD.
    cost = request_cost(builtin("amazon.nova-lite-v1:0"), input_tokens=1000, output_tokens=500)
    assert cost == pytest.approx(0.00018)


def test_claude_cache_tokens_are_priced_as_such() -> None:
    # Claude 3.7 Sonnet, inputTokens excluding the cache:
    #   200 x 3.00 + 300 x 15.00 + 5,000 x 0.30 (read) + 1,000 x 3.75 (write)
    #   = 600 + 4,500 + 1,500 + 3,750 = 10,350 USD per 1M  ->  0.01035 USD.
    cost = request_cost(
        builtin("anthropic.claude-3-7-sonnet-20250219-v1:0"),
        input_tokens=200,
        output_tokens=300,
        cache_read_tokens=5000,
        cache_write_tokens=1000,
    )
    assert cost == pytest.approx(0.01035)


def test_nova_cache_writes_are_free_and_reads_a_quarter() -> None:
    # Nova Pro: 100 x 0.80 + 50 x 3.20 + 4,000 x 0.20 + 2,000 x 0 = 80 + 160 + 800 = 1,040
    #   -> 0.00104 USD. Without the cache, the same 6,100 prompt tokens would cost
    #   6,100 x 0.80 + 160 = 5,040 -> 0.00504 USD.
    nova_pro = builtin("amazon.nova-pro-v1:0")
    cached = request_cost(
        nova_pro,
        input_tokens=100,
        output_tokens=50,
        cache_read_tokens=4000,
        cache_write_tokens=2000,
    )
    uncached = request_cost(nova_pro, input_tokens=6100, output_tokens=50)
    assert cached == pytest.approx(0.00104)
    assert uncached == pytest.approx(0.00504)


def test_cache_tokens_of_a_model_without_cache_prices_cost_plain_input() -> None:
    # Llama 3.1 8B has no cache price: (100 + 100 + 50) x 0.22 + 10 x 0.22 = 57.2 -> 0.0000572.
    cost = request_cost(
        builtin("meta.llama3-1-8b-instruct-v1:0"),
        input_tokens=100,
        output_tokens=10,
        cache_read_tokens=100,
        cache_write_tokens=50,
    )
    assert cost == pytest.approx(0.0000572)


def test_profile_prices_differ_for_claude_4_5() -> None:
    # 100K in + 100K out (below the 200K long-context threshold): regional 0.33 + 1.65 = 1.98
    # USD, global 0.30 + 1.50 = 1.80 USD.
    model = "anthropic.claude-sonnet-4-5-20250929-v1:0"
    tokens = {"input_tokens": 100_000, "output_tokens": 100_000}
    assert request_cost(builtin(f"eu.{model}"), **tokens) == pytest.approx(1.98)
    assert request_cost(builtin(f"global.{model}"), **tokens) == pytest.approx(1.80)


def test_negative_token_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        request_cost(price(1, 1), input_tokens=-1, output_tokens=0)
    with pytest.raises(ValueError):
        worst_case_cost(price(1, 1), -1, 10)


token_counts = st.integers(min_value=0, max_value=10**7)
rates = st.floats(min_value=0, max_value=100, allow_nan=False, allow_infinity=False)


@given(
    rates,
    rates,
    st.none() | rates,
    st.none() | rates,
    st.lists(token_counts, min_size=4, max_size=4),
    st.lists(token_counts, min_size=4, max_size=4),
    st.integers(min_value=0, max_value=1000),
)
def test_cost_is_linear_and_non_negative(
    input_rate: float,
    output_rate: float,
    read_rate: float | None,
    write_rate: float | None,
    a: list[int],
    b: list[int],
    k: int,
) -> None:
    p = price(input_rate, output_rate, read_rate, write_rate)

    def cost(tokens: list[int]) -> float:
        i, o, r, w = tokens
        return request_cost(
            p, input_tokens=i, output_tokens=o, cache_read_tokens=r, cache_write_tokens=w
        )

    assert cost(a) >= 0
    summed = [x + y for x, y in zip(a, b, strict=True)]
    assert cost(summed) == pytest.approx(cost(a) + cost(b), rel=1e-9, abs=1e-12)
    assert cost([k * x for x in a]) == pytest.approx(k * cost(a), rel=1e-9, abs=1e-12)
    assert cost([0, 0, 0, 0]) == 0.0


def test_worst_case_takes_the_dearest_input_rate_and_every_max_token() -> None:
    # Claude 3.7 Sonnet: 2,000 x max(3.00, 3.75 write) + 512 x 15.00 = 7,500 + 7,680 = 15,180
    #   -> 0.01518 USD.
    sonnet = builtin("anthropic.claude-3-7-sonnet-20250219-v1:0")
    assert worst_case_cost(sonnet, 2000, 512) == pytest.approx(0.01518)
    # Llama 3.1 8B, no cache: (2,000 + 512) x 0.22 = 552.64 -> 0.00055264 USD.
    llama = builtin("meta.llama3-1-8b-instruct-v1:0")
    assert worst_case_cost(llama, 2000, 512) == pytest.approx(0.00055264)


# --- which requests are billed --------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "output_tokens", "input_tokens", "started", "expected"),
    [
        (None, 500, 1000, None, Billing.BILLED),
        (None, 0, 1000, None, Billing.BILLED),  # an empty answer still read its prompt
        (None, None, None, None, Billing.UNKNOWN),  # succeeded, but no usage came back
        (ErrorClass.THROTTLED, None, None, None, Billing.NOT_BILLED),  # HTTP 429
        (ErrorClass.THROTTLED, 0, 1000, None, Billing.NOT_BILLED),
        (ErrorClass.THROTTLED, 120, 1000, None, Billing.BILLED),  # throttlingException frame
        (ErrorClass.CLIENT, None, None, None, Billing.NOT_BILLED),
        (ErrorClass.SERVER, None, None, None, Billing.NOT_BILLED),  # 5xx before any byte
        (ErrorClass.SERVER, None, None, False, Billing.NOT_BILLED),
        (ErrorClass.SERVER, 80, 1000, None, Billing.BILLED),  # failed midway, usage known
        (ErrorClass.TIMEOUT, None, None, True, Billing.UNKNOWN),  # failed midway, no usage
        (ErrorClass.CONNECTION, None, 1000, True, Billing.UNKNOWN),
        (ErrorClass.PROTOCOL, 40, 1000, True, Billing.BILLED),
        (ErrorClass.DROPPED, None, None, None, Billing.NOT_BILLED),  # never sent
        (ErrorClass.DROPPED, 10, 10, True, Billing.NOT_BILLED),
    ],
)
def test_billing_rule(
    error: ErrorClass | None,
    output_tokens: int | None,
    input_tokens: int | None,
    started: bool | None,
    expected: Billing,
) -> None:
    assert billing(error, output_tokens, input_tokens, stream_started=started) is expected
    billed = is_billed(error, output_tokens, input_tokens, stream_started=started)
    assert billed is (expected is not Billing.NOT_BILLED)
    # Plain strings work as well as ErrorClass members.
    as_text = None if error is None else error.value
    assert billing(as_text, output_tokens, input_tokens, stream_started=started) is expected


def test_sample_cost_follows_the_rule() -> None:
    nova_lite = builtin("amazon.nova-lite-v1:0")
    assert sample_cost(nova_lite, sample()) == pytest.approx(0.00018)
    throttled = sample(
        error=ErrorClass.THROTTLED,
        first_token_us=None,
        deltas=0,
        input_tokens=None,
        output_tokens=None,
        http_status=429,
    )
    assert sample_cost(nova_lite, throttled) == 0.0
    assert sample_cost(None, throttled) == 0.0  # unbilled costs nothing, priced or not
    midway = sample(error=ErrorClass.CONNECTION, input_tokens=None, output_tokens=None)
    assert sample_cost(nova_lite, midway) is None
    assert sample_cost(nova_lite, sample(tokens_estimated=True)) is None
    assert sample_cost(None, sample()) is None


def test_sample_cost_prices_its_cache_counts() -> None:
    # Nova Lite: 1,000 x 0.06 + 500 x 0.24 + 3,000 x 0.015 + 700 x 0 = 60 + 120 + 45 = 225
    #   -> 0.000225 USD.
    with_cache = sample(cache_read_tokens=3000, cache_write_tokens=700)
    assert sample_cost(builtin("amazon.nova-lite-v1:0"), with_cache) == pytest.approx(0.000225)


# --- CostStats ------------------------------------------------------------------------------


def filled() -> CostStats:
    stats = CostStats()
    for cost, ok in [(0.001, True), (0.002, True), (0.003, True), (None, False), (0.0, False)]:
        stats.add(cost, ok)
    return stats


def test_cost_stats_totals_and_per_request() -> None:
    stats = filled()
    summary = stats.summary(window_s=10.0, ok_requests=3, tested_rps=2.0, project_rps=100.0)
    # total 0.001 + 0.002 + 0.003 + 0 = 0.006 over 4 priced requests (one unpriced).
    assert summary["total_usd"] == pytest.approx(0.006)
    assert (summary["requests"], summary["priced_requests"], summary["unpriced_requests"]) == (
        5,
        4,
        1,
    )
    per_request = summary["per_sent_request"]
    assert per_request["mean"] == pytest.approx(0.0015)  # 0.006 / 4
    # Sorted: 0, 0.001, 0.002, 0.003. p50 = the 2nd = 0.001; p99 = the 4th = 0.003 (HDR: 0.1 %).
    assert per_request["p50"] == pytest.approx(0.001, rel=1e-3)
    assert per_request["p99"] == pytest.approx(0.003, rel=1e-3)
    assert summary["per_1k_sent_usd"] == pytest.approx(1.5)  # 0.0015 x 1,000
    assert summary["per_1k_answered_usd"] == pytest.approx(2.0)  # 0.006 / 3 x 1,000
    assert summary["observed_per_hour"] == pytest.approx(2.16)  # 0.006 / 10 s x 3,600


def test_cost_stats_projections() -> None:
    summary = filled().summary(window_s=10.0, ok_requests=3, tested_rps=2.0, project_rps=100.0)
    tested = summary["projection"]["at_tested_rps"]
    # 0.0015 USD x 2 req/s x 3,600 s = 10.8 per hour; x 24 = 259.2; x 730 h = 7,884.
    assert tested == {
        "rps": 2.0,
        "per_hour": pytest.approx(10.8),
        "per_day": pytest.approx(259.2),
        "per_month": pytest.approx(7884.0),
    }
    project = summary["projection"]["at_project_rps"]
    # 0.0015 x 100 x 3,600 = 540 per hour; x 24 = 12,960; x 730 = 394,200.
    assert project == {
        "rps": 100.0,
        "per_hour": pytest.approx(540.0),
        "per_day": pytest.approx(12960.0),
        "per_month": pytest.approx(394200.0),
    }


def test_tested_rate_defaults_to_requests_over_the_window() -> None:
    summary = filled().summary(window_s=10.0, ok_requests=3, tested_rps=None, project_rps=None)
    # 5 requests / 10 s = 0.5 req/s; 0.0015 x 0.5 x 3,600 = 2.7 USD per hour.
    assert summary["projection"]["at_tested_rps"]["rps"] == 0.5
    assert summary["projection"]["at_tested_rps"]["per_hour"] == pytest.approx(2.7)
    assert summary["projection"]["at_project_rps"] is None


def test_empty_and_unpriced_stats_give_nulls() -> None:
    empty = CostStats()
    unpriced = CostStats()
    unpriced.add(None, True)
    for stats in (empty, unpriced):
        summary = stats.summary(window_s=60, ok_requests=1, tested_rps=5.0, project_rps=50.0)
        assert summary["total_usd"] == 0.0
        assert summary["per_sent_request"] == {"mean": None, "p50": None, "p99": None}
        assert summary["per_1k_sent_usd"] is None
        assert summary["per_1k_answered_usd"] is None
        assert summary["observed_per_hour"] is None
        assert summary["projection"] == {
            "hours_per_month": 730,
            "at_tested_rps": None,
            "at_project_rps": None,
        }
    assert unpriced.summary(60, 1, None, None)["unpriced_requests"] == 1


def test_all_unbilled_requests_cost_exactly_zero() -> None:
    stats = CostStats()
    for _ in range(10):
        stats.add(0.0, False)
    per_request = stats.summary(None, 0, None, None)["per_sent_request"]
    assert per_request == {"mean": 0.0, "p50": 0.0, "p99": 0.0}


def test_cheap_requests_keep_hdr_precision() -> None:
    # Nova Micro, 100 in + 50 out: 100 x 0.035 + 50 x 0.14 = 3.5 + 7 = 10.5 -> 0.0000105 USD.
    cost = request_cost(builtin("amazon.nova-micro-v1:0"), input_tokens=100, output_tokens=50)
    assert cost == pytest.approx(0.0000105)
    stats = CostStats()
    for _ in range(100):
        stats.add(cost, True)
    assert stats.percentile_usd(50) == pytest.approx(0.0000105, rel=1e-3)
    assert stats.percentile_usd(99) == pytest.approx(0.0000105, rel=1e-3)


def test_a_cost_beyond_the_histogram_is_counted_and_still_totalled() -> None:
    stats = CostStats()
    stats.add(150.0, True)
    summary = stats.summary(None, 1, None, None)
    assert (summary["out_of_range"], summary["total_usd"]) == (1, 150.0)
    with pytest.raises(ValueError):
        stats.add(-0.01, True)
    with pytest.raises(ValueError):
        stats.add(float("nan"), True)


def test_merged_stats_equal_one_accumulator() -> None:
    rng = random.Random(7)
    costs = [rng.choice([None, 0.0, rng.uniform(0.0001, 0.05)]) for _ in range(400)]
    whole, left, right = CostStats(), CostStats(), CostStats()
    for index, cost in enumerate(costs):
        whole.add(cost, cost is not None)
        (left if index % 2 else right).add(cost, cost is not None)
    left.merge(right)
    merged, single = left.summary(60, 300, None, 10), whole.summary(60, 300, None, 10)
    assert flat(merged) == pytest.approx(flat(single))


def flat(data: dict[str, object], prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


# --- the budget guard -----------------------------------------------------------------------


def test_guard_counts_spend_and_reservations() -> None:
    guard = BudgetGuard(1.0)
    assert guard.allows(1.0) and not guard.allows(1.0000001)
    guard.reserve(1, 0.25)
    guard.reserve(2, 0.25)
    assert (guard.in_flight_usd, guard.remaining_usd) == (0.5, 0.5)
    assert guard.release(1) == 0.25
    assert guard.release(1) == 0.0  # releasing twice is harmless
    guard.spent(0.125)
    assert guard.remaining_usd == pytest.approx(1.0 - 0.125 - 0.25)
    with pytest.raises(ValueError):
        guard.reserve(2, 0.1)  # already reserved
    with pytest.raises(ValueError):
        BudgetGuard(-1.0)


def test_an_unknown_cost_is_booked_at_its_reservation() -> None:
    guard = BudgetGuard(1.0)
    guard.reserve("a", 0.375)
    guard.settle("a", None)
    guard.reserve("b", 0.25)
    guard.settle("b", 0.125)
    assert (guard.spent_usd, guard.in_flight_usd) == (0.5, 0.0)


def test_reservations_crossing_the_budget_stop_sending() -> None:
    # Budget 1.00 USD; each request may cost 0.25 at worst and costs 0.125 in fact.
    guard = BudgetGuard(1.0)
    for request_id in "ABCD":
        assert guard.try_reserve(request_id, 0.25)
    # spent 0 + in flight 1.00 + next 0.25 = 1.25 > 1.00: E waits.
    assert not guard.try_reserve("E", 0.25)
    guard.settle("A", 0.125)
    # spent 0.125 + in flight 0.75 + next 0.25 = 1.125 > 1.00: still no.
    assert not guard.allows(0.25)
    guard.settle("B", 0.125)
    # spent 0.25 + in flight 0.50 + next 0.25 = 1.00: E may go.
    assert guard.try_reserve("E", 0.25)
    in_flight_at_stop = guard.in_flight_usd
    for request_id in "CDE":
        guard.settle(request_id, 0.125)
    assert guard.spent_usd == 0.625
    assert guard.spent_usd - guard.max_usd <= in_flight_at_stop
    assert guard.spent_usd <= guard.max_usd


@given(
    st.floats(min_value=0.01, max_value=10.0),
    st.lists(
        st.tuples(
            st.floats(min_value=0.0, max_value=2.0),  # worst case of the next request
            st.floats(min_value=0.0, max_value=1.0),  # its actual cost, as a share of that
            st.integers(min_value=0, max_value=5),  # requests finishing before the next try
        ),
        min_size=1,
        max_size=200,
    ),
    st.randoms(use_true_random=False),
)
def test_spend_never_passes_the_budget_by_more_than_the_in_flight_reserve(
    budget: float, steps: list[tuple[float, float, int]], rng: random.Random
) -> None:
    guard = BudgetGuard(budget)
    in_flight: dict[int, tuple[float, float]] = {}  # request id -> (worst case, actual cost)
    for request_id, (worst, share, finishing) in enumerate(steps):
        for done in rng.sample(sorted(in_flight), min(finishing, len(in_flight))):
            _, actual = in_flight.pop(done)
            guard.settle(done, actual)
        if guard.try_reserve(request_id, worst):
            in_flight[request_id] = (worst, worst * share)
        # The guard's invariant: what is spent plus every in-flight reservation fits the budget,
        # so whatever is still in flight can overshoot by at most its own reservation.
        assert guard.spent_usd + guard.in_flight_usd <= budget * (1 + 1e-9)
        assert guard.spent_usd - budget <= guard.in_flight_usd + 1e-9
    for request_id, (_, actual) in in_flight.items():
        guard.settle(request_id, actual)
    assert guard.in_flight_usd == 0.0
    assert guard.spent_usd <= budget * (1 + 1e-9)
