"""Where Provisioned Throughput and the Reserved tier start to cost no more than on demand:
checked against a plain scan of the bills they describe, load by load."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loadgen.planning.break_even import (
    provisioned_break_even,
    reserved_break_even,
    units_needed,
)

STEP = 0.001  # requests/s between the loads the scan tries


def _first_cheaper(bill: object, on_demand_per_rps: float, top: float) -> float | None:
    """The first load of a fine grid at which `bill(load)` <= on demand."""
    assert callable(bill)
    load = STEP
    while load <= top:
        if bill(load) <= on_demand_per_rps * load:
            return load
        load += STEP
    return None


def test_units_are_enough_for_both_input_and_output() -> None:
    assert units_needed((18_720, 48_000), (100_000, 10_000)) == 5  # output binds: 4.8 -> 5
    assert units_needed((250_000, 1_000), (100_000, 10_000)) == 3  # input binds: 2.5 -> 3
    assert units_needed((200_000, 20_000), (100_000, 10_000)) == 2  # exactly 2 is 2, not 3
    assert units_needed((0, 0), (100_000, 10_000)) == 0


@given(
    unit_month=st.floats(10, 5_000),
    per_rps=st.floats(1, 1_000),
    capacity=st.floats(0.5, 50),
)
def test_provisioned_break_even_is_where_one_unit_first_costs_no_more(
    unit_month: float, per_rps: float, capacity: float
) -> None:
    found = provisioned_break_even(unit_month, per_rps, capacity)

    def bill(load: float) -> float:
        return math.ceil(load / capacity - 1e-12) * unit_month

    if found is None:
        # No crossing with one unit: none with more either (each unit costs what the first does).
        assert unit_month / per_rps > capacity
        for units in (1, 2, 5):
            load = units * capacity
            assert bill(load) > per_rps * load * (1 - 1e-9)
    else:
        assert bill(found) <= per_rps * found * (1 + 1e-9)
        below = found * (1 - 1e-6)
        assert bill(below) > per_rps * below


def test_reserved_break_even_matches_a_scan() -> None:
    # 8 interactive req/s x 39 input and 100 output tokens a request: 1,872 and 4,800 tokens a
    # minute per req/s; at least 100,000 input and 10,000 output reserved; 2.00 and 10.00 USD
    # per 1,000 a month; on demand 56.8944 USD a month per req/s.
    minimums, per_rps_tpm, prices = (100_000, 10_000), (1_872.0, 4_800.0), (2.0, 10.0)
    found = reserved_break_even(minimums, per_rps_tpm, prices, 56.8944)

    def bill(load: float) -> float:
        return sum(
            max(rate * load, minimum) / 1000 * price
            for minimum, rate, price in zip(minimums, per_rps_tpm, prices, strict=True)
        )

    scanned = _first_cheaper(bill, 56.8944, 100)
    assert found is not None and scanned is not None
    assert found == pytest.approx(scanned, abs=STEP)


def test_reserved_never_breaks_even_when_its_tokens_cost_more_than_on_demand() -> None:
    # Past the minimums it costs 4,800 / 1000 x 20 = 96 USD per req/s against on demand's 50.
    assert reserved_break_even((100_000, 10_000), (1_872.0, 4_800.0), (2.0, 20.0), 50.0) is None


@given(
    minimum_in=st.integers(0, 200_000),
    minimum_out=st.integers(0, 50_000),
    rate_in=st.floats(10, 10_000),
    rate_out=st.floats(10, 10_000),
    price_in=st.floats(0.1, 5),
    price_out=st.floats(0.1, 20),
    per_rps=st.floats(1, 500),
)
def test_reserved_break_even_is_a_point_where_it_is_no_dearer_and_just_before_it_is(
    minimum_in: int,
    minimum_out: int,
    rate_in: float,
    rate_out: float,
    price_in: float,
    price_out: float,
    per_rps: float,
) -> None:
    minimums, rates, prices = (minimum_in, minimum_out), (rate_in, rate_out), (price_in, price_out)
    found = reserved_break_even(minimums, rates, prices, per_rps)

    def bill(load: float) -> float:
        return sum(
            max(rate * load, minimum) / 1000 * price
            for minimum, rate, price in zip(minimums, rates, prices, strict=True)
        )

    if found is None:
        # Dearer at every load, from a thousandth of a request/s to a million.
        for exponent in range(-30, 61):
            load = 10 ** (exponent / 10)
            assert bill(load) > per_rps * load * (1 - 1e-9)
    else:
        assert bill(found) <= per_rps * found * (1 + 1e-9) + 1e-9
        if found > 0:
            below = found * (1 - 1e-6)
            assert bill(below) > per_rps * below
