"""One model's plan from measured tokens, prices and a target: the quota by AWS's rules, each
option's monthly bill, and the inputs `loadgen plan` parses."""

from __future__ import annotations

import math
from datetime import date

import pytest

from loadgen.core.errors import ConfigError
from loadgen.cost.pricing import (
    DEFAULT_REGION,
    LongContextRates,
    PriceEntry,
    ProvisionedPrices,
    ReservedPrices,
    ResolvedPrice,
)
from loadgen.planning.build import plan_model
from loadgen.planning.measured import GivenQuota, Measured, TokenTotals
from loadgen.planning.target import (
    DEFAULT_UNIT_OUTPUT_TPM,
    ModelUnit,
    QuotaOption,
    Target,
    parse_model_units,
    parse_quotas,
)

MODEL = "acme.w-v1"
TARGET = Target(peak_rps=5, hours_per_day=8, days_per_month=20, deferrable_share=0.25)


def _price(prices: dict[str, object] | None = None, **extra: object) -> ResolvedPrice:
    standard = {"input": 1.0, "output": 4.0, "cache_read": 0.1, "cache_write": 1.25}
    entry = PriceEntry.model_validate(
        {
            "prices": standard | (prices or {}),
            "source": "test",
            "as_of": date(2026, 1, 1),
            **extra,
        }
    )
    return ResolvedPrice(
        prices=entry.prices,
        model_id=MODEL,
        catalogue_id=MODEL,
        region=DEFAULT_REGION,
        fell_back=False,
        source=entry.source,
        as_of=entry.as_of,
        provisioned=entry.provisioned,
        reserved=entry.reserved,
    )


def _measured(requests: int = 4, max_tokens: int = 300) -> Measured:
    measured = Measured(MODEL, max_tokens=max_tokens)
    # 4 requests: 1,000 input, 200 output, 2,000 cache read and 400 cache write in all.
    measured.regular = TokenTotals(requests, 1_000, 200, 2_000, 400)
    return measured


def test_the_quota_takes_the_larger_of_reservation_and_settlement() -> None:
    # Per request: 250 input, 50 output, 100 cache write. Reserved 250 + 100 + 300 = 650;
    # settled with burndown 5: 250 + 100 + 5 x 50 = 600, so the reservation sets TPM.
    plan = plan_model(_measured(), _price(), 5.0, TARGET, ModelUnit(), None)
    quota, per_minute = plan["quota"], 5 * 0.75 * 60
    assert (quota["reserved_per_request"], quota["settled_per_request"]) == (650, 600)
    assert quota["tpm"] == math.ceil(per_minute * 650)
    assert quota["tpd"] == math.ceil(per_minute * 60 * 8 * 600)  # a day settles
    assert quota["rpm"] == math.ceil(per_minute)
    # A small max_tokens: the settlement, 5 x output, is the larger.
    small = plan_model(_measured(max_tokens=10), _price(), 5.0, TARGET, ModelUnit(), None)
    assert small["quota"]["tpm"] == math.ceil(per_minute * 600)


def test_a_given_quota_fits_or_names_what_is_short() -> None:
    need = plan_model(_measured(), _price(), 1.0, TARGET, ModelUnit(), None)["quota"]
    enough = GivenQuota(tpm=need["tpm"], tpd=need["tpd"], rpm=None, source="--quota")
    fits = plan_model(_measured(), _price(), 1.0, TARGET, ModelUnit(), enough)["quota"]
    assert (fits["fits"], fits["short"]) == (True, [])
    short = GivenQuota(tpm=need["tpm"] - 1, tpd=None, rpm=need["rpm"] - 1, source="emulator")
    tight = plan_model(_measured(), _price(), 1.0, TARGET, ModelUnit(), short)["quota"]
    assert (tight["fits"], tight["short"]) == (False, ["tpm", "rpm"])
    assert need["fits"] is None


def test_on_demand_bills_scale_with_the_requests_of_a_month() -> None:
    price = _price(prices={"batch": {"input": 0.5, "output": 2.0}})
    plan = plan_model(_measured(), price, 1.0, TARGET, ModelUnit(), None)
    per_request = (1_000 * 1.0 + 200 * 4.0 + 2_000 * 0.1 + 400 * 1.25) / 1e6 / 4
    batch = (1_000 * 0.5 + 200 * 2.0 + 2_000 * 0.5 + 400 * 0.5) / 1e6 / 4  # no cache rates
    month = 5 * 3600 * 8 * 20
    standard = plan["options"]["on_demand_standard"]
    assert plan["deferrable_via"] == "batch"
    assert standard["interactive_usd"] == round(per_request * month * 0.75, 2)
    assert standard["deferrable_usd"] == round(batch * month * 0.25, 2)
    assert standard["monthly_usd"] == round(per_request * month * 0.75 + batch * month * 0.25, 2)
    assert plan["options"]["on_demand_priority"]["monthly_usd"] is None
    assert "no priority rates" in (plan["options"]["on_demand_priority"]["why"] or "")


def test_without_batch_rates_the_deferrable_share_goes_to_flex_then_standard() -> None:
    flex = _price(prices={"flex": {"input": 0.5, "output": 2.0}})
    assert plan_model(_measured(), flex, 1.0, TARGET, ModelUnit(), None)["deferrable_via"] == "flex"
    plain = plan_model(_measured(), _price(), 1.0, TARGET, ModelUnit(), None)
    assert plain["deferrable_via"] == "standard"


def test_long_context_requests_are_billed_at_their_own_rates() -> None:
    long_rates = LongContextRates(above_input_tokens=1_000, input=2.0, output=8.0)
    price = _price(prices={"long_context": long_rates.model_dump()})
    measured = _measured()
    measured.long = TokenTotals(1, 3_000, 100, 0, 0)  # one request over the threshold
    plan = plan_model(measured, price, 1.0, TARGET, ModelUnit(), None)
    regular = 1_000 * 1.0 + 200 * 4.0 + 2_000 * 0.1 + 400 * 1.25
    long = 3_000 * 2.0 + 100 * 8.0
    assert plan["cost_per_request_usd"]["standard"] == round((regular + long) / 1e6 / 5, 9)
    assert plan["measured"]["long_context_requests"] == 1


def test_provisioned_units_hours_and_commitments() -> None:
    quote = ProvisionedPrices(none=10.0, six_months=6.0, source="quote")
    plan = plan_model(
        _measured(),
        _price(provisioned=quote.model_dump()),
        1.0,
        TARGET,
        ModelUnit(1_000, 100),
        None,
    )
    load = plan["load"]
    units = max(math.ceil(load["input_tpm"] / 1_000), math.ceil(load["output_tpm"] / 100))
    none, one, six = (
        plan["options"][f"provisioned_{c}"] for c in ("none", "one_month", "six_months")
    )
    assert none["units"] == six["units"] == units
    assert none["hours"] == 8 * 20  # deleted after each day's peak
    assert six["hours"] == TARGET.hours_per_month  # committed: every hour of the month
    assert none["interactive_usd"] == round(units * 10.0 * 160, 2)
    assert six["interactive_usd"] == round(units * 6.0 * 730, 2)
    assert one["monthly_usd"] is None and "no one month price" in (one["why"] or "")


def test_the_default_model_unit_is_said_in_the_notes() -> None:
    default = plan_model(_measured(), _price(), 1.0, TARGET, ModelUnit(), None)
    assert any("--model-unit-tpm" in note for note in default["notes"])
    given = plan_model(_measured(), _price(), 1.0, TARGET, ModelUnit(5, 5, given=True), None)
    assert not any("--model-unit-tpm" in note for note in given["notes"])


def test_the_reserved_tier_reserves_at_least_its_minimums() -> None:
    reserved = ReservedPrices(
        input_per_1k_tpm_month=1.0, output_per_1k_tpm_month=5.0, source="quote"
    )
    plan = plan_model(
        _measured(), _price(reserved=reserved.model_dump()), 1.0, TARGET, ModelUnit(), None
    )
    bill = plan["options"]["reserved"]
    load = plan["load"]
    # 3.75 interactive req/s: 3.75 x 60 x 350 = 78,750 input tokens a minute, below the
    # minimum of 100,000; 3.75 x 60 x 50 = 11,250 output, above its 10,000.
    assert (load["input_tpm"], load["output_tpm"]) == (78_750, 11_250)
    assert (bill["reserved_input_tpm"], bill["reserved_output_tpm"]) == (100_000, 11_250)
    expected = bill["reserved_input_tpm"] / 1000 * 1.0 + bill["reserved_output_tpm"] / 1000 * 5.0
    assert bill["interactive_usd"] == round(expected, 2)


def test_a_model_without_a_price_still_gets_its_quota() -> None:
    plan = plan_model(_measured(), None, 1.0, TARGET, ModelUnit(), None)
    assert plan["quota"]["tpm"] > 0 and plan["cheapest"] is None
    assert all(bill["monthly_usd"] is None for bill in plan["options"].values())


def test_a_peak_in_tokens_per_minute_becomes_requests() -> None:
    by_tokens = Target(peak_tpm=90_000, hours_per_day=8, days_per_month=20)
    plan = plan_model(_measured(), _price(), 1.0, by_tokens, ModelUnit(), None)
    # 250 + 2,000 / 4 + 100 + 50 = 900 tokens a request: 100 requests a minute.
    assert plan["load"]["peak_rps"] == round(90_000 / 60 / 900, 6)


# --- the command's inputs -------------------------------------------------------------------


def test_target_problems_are_reported_together() -> None:
    with pytest.raises(ConfigError) as raised:
        Target(hours_per_day=25, deferrable_share=1.0)
    text = str(raised.value)
    assert "--peak-rps or --peak-tpm" in text and "--hours-per-day" in text
    assert "--deferrable-share" in text


def test_model_units_for_every_model_and_one() -> None:
    every, by_model = parse_model_units(("200000/50000", "us.acme.w-v1:0=300_000"))
    assert (every.input_tpm, every.output_tpm, every.given) == (200_000, 50_000, True)
    one = by_model["us.acme.w-v1:0"]
    assert (one.input_tpm, one.output_tpm) == (300_000, DEFAULT_UNIT_OUTPUT_TPM)
    with pytest.raises(ConfigError, match="expected"):
        parse_model_units(("lots",))


def test_quotas_for_every_model_and_one_whose_id_has_colons() -> None:
    every, by_model = parse_quotas(("tpm=1000,rpm=5", "us.acme.w-v1:0:tpm=2000,tpd=9000"))
    assert every == QuotaOption(tpm=1000, rpm=5)
    assert by_model == {"us.acme.w-v1:0": QuotaOption(tpm=2000, tpd=9000)}
    with pytest.raises(ConfigError, match="expected"):
        parse_quotas(("tpm=0",))
    with pytest.raises(ConfigError, match="expected"):
        parse_quotas(("tokens=5",))
