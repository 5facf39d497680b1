"""The ways Bedrock sells a model beyond standard on-demand: a request billed at the tier its
response names, quotes for Provisioned Throughput and the Reserved tier laid over the
catalogue, and the per-model detail `loadgen prices --model` shows."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from loadgen.core.errors import ConfigError
from loadgen.core.sample import ErrorClass, LineFormat, Sample
from loadgen.cost.accounting import request_cost, sample_cost, tier_request_cost, tokens_cost
from loadgen.cost.pricing import (
    DEFAULT_REGION,
    RESPONSE_TIERS,
    Commitment,
    PriceBook,
    ResolvedPrice,
    Tier,
    price_details,
)
from tests.factories import make_sample

GPT_OSS = "openai.gpt-oss-120b-1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
TOKENS = {"input_tokens": 2000, "output_tokens": 300}


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return PriceBook.builtin()


def _resolved(book: PriceBook, model: str) -> ResolvedPrice:
    resolved = book.resolve(model, DEFAULT_REGION)
    assert resolved is not None
    return resolved


# --- billing by the tier that served the request ------------------------------------------


@pytest.mark.parametrize(
    ("served_by", "kind"),
    [(None, "standard"), ("default", "standard"), ("priority", "priority"), ("flex", "flex")],
)
def test_a_sample_is_billed_at_the_tier_its_response_names(
    book: PriceBook, served_by: str | None, kind: str
) -> None:
    price = _resolved(book, GPT_OSS)
    rates = price.prices if kind == "standard" else getattr(price.prices, kind)
    expected = (2000 * rates.input + 300 * rates.output) / 1_000_000
    sample = make_sample(1, service_tier=served_by, **TOKENS)
    assert sample_cost(price, sample) == pytest.approx(expected)


def test_priority_costs_more_and_flex_less_than_standard(book: PriceBook) -> None:
    price = _resolved(book, GPT_OSS)
    standard = request_cost(price, **TOKENS)
    priority = tier_request_cost(price, Tier.PRIORITY, **TOKENS)
    flex = tier_request_cost(price, Tier.FLEX, **TOKENS)
    assert priority is not None and flex is not None
    assert flex < standard < priority


def test_a_request_served_by_the_reserved_tier_costs_nothing_per_token(book: PriceBook) -> None:
    price = _resolved(book, GPT_OSS)
    assert sample_cost(price, make_sample(1, service_tier="reserved", **TOKENS)) == 0.0


def test_a_tier_without_rates_or_unknown_to_loadgen_is_an_unknown_amount(
    book: PriceBook,
) -> None:
    nova = _resolved(book, NOVA_PRO)  # no priority rates in the catalogue
    assert nova.prices.priority is None
    assert sample_cost(nova, make_sample(1, service_tier="priority", **TOKENS)) is None
    assert sample_cost(nova, make_sample(1, service_tier="turbo", **TOKENS)) is None
    assert "turbo" not in RESPONSE_TIERS


def test_an_unbilled_request_costs_nothing_whatever_its_tier(book: PriceBook) -> None:
    price = _resolved(book, GPT_OSS)
    refused = make_sample(
        1,
        service_tier="priority",
        error=ErrorClass.THROTTLED,
        first_token_us=None,
        itl_us=(),
        deltas=0,
        input_tokens=None,
        output_tokens=None,
    )
    assert sample_cost(price, refused) == 0.0


def test_the_tier_travels_in_samples_jsonl_and_back() -> None:
    line_format = LineFormat("run", 0)
    line = make_sample(3, service_tier="flex").to_json_dict(line_format)
    assert line["service_tier"] == "flex"
    assert Sample.from_json_dict(dict(line)).service_tier == "flex"
    untold = make_sample(4).to_json_dict(line_format)
    assert untold["service_tier"] == ""
    assert Sample.from_json_dict(dict(untold)).service_tier is None
    earlier = {key: value for key, value in untold.items() if key != "service_tier"}
    assert Sample.from_json_dict(earlier).service_tier is None  # a line before the field


def test_tokens_cost_takes_means(book: PriceBook) -> None:
    rates = _resolved(book, NOVA_PRO).prices
    # 2.5 input and 0.5 output tokens a request on average: 2.5 x 0.80 + 0.5 x 3.20 = 3.6 / 1M.
    assert tokens_cost(rates, 2.5, 0.5) == pytest.approx(3.6e-6)


# --- quotes laid over the catalogue ---------------------------------------------------------


def _quote(tmp_path: Path, models: dict[str, object]) -> Path:
    path = tmp_path / "quote.yaml"
    path.write_text(yaml.safe_dump({"models": models}))
    return path


def test_a_quote_adds_provisioned_and_reserved_prices_and_keeps_the_token_prices(
    book: PriceBook, tmp_path: Path
) -> None:
    path = _quote(
        tmp_path,
        {
            NOVA_PRO: {
                DEFAULT_REGION: {
                    "provisioned": {"one_month": 20.5, "six_months": 15.0, "source": "quote"},
                    "reserved": {
                        "input_per_1k_tpm_month": 3.0,
                        "output_per_1k_tpm_month": 12.0,
                        "source": "quote",
                    },
                }
            }
        },
    )
    quoted = book.with_quotes(path)
    before = _resolved(book, NOVA_PRO)
    after = _resolved(quoted, NOVA_PRO)
    assert after.prices == before.prices and after.source == before.source
    assert after.provisioned is not None and after.reserved is not None
    assert after.provisioned.hourly(Commitment.ONE_MONTH) == 20.5
    assert after.provisioned.hourly(Commitment.NONE) is None
    assert (after.reserved.min_input_tpm, after.reserved.min_output_tpm) == (100_000, 10_000)
    assert book.resolve(NOVA_PRO, DEFAULT_REGION) == before  # the catalogue is unchanged


def test_a_quote_for_a_model_the_catalogue_lacks_needs_prices_and_a_source(
    book: PriceBook, tmp_path: Path
) -> None:
    bare = _quote(tmp_path, {"acme.w-v1": {"us-east-1": {"provisioned": {"source": "q"}}}})
    with pytest.raises(ConfigError, match="needs prices and a source"):
        book.with_quotes(bare)
    whole = _quote(
        tmp_path,
        {"acme.w-v1": {"us-east-1": {"prices": {"input": 1, "output": 2}, "source": "quote"}}},
    )
    added = _resolved(book.with_quotes(whole), "acme.w-v1")
    assert (added.prices.input, added.prices.output, added.source) == (1, 2, "quote")


def test_a_quote_with_an_unknown_key_names_it(book: PriceBook, tmp_path: Path) -> None:
    path = _quote(tmp_path, {NOVA_PRO: {DEFAULT_REGION: {"provisoned": {"source": "q"}}}})
    with pytest.raises(ConfigError, match="provisoned: unknown key"):
        book.with_quotes(path)


# --- the detail view ------------------------------------------------------------------------


def test_the_detail_of_a_profile_id_shows_its_base_models_every_kind(book: PriceBook) -> None:
    (detail,) = price_details(book, f"us.{GPT_OSS}")
    assert (detail.catalogue_id, detail.region) == (GPT_OSS, DEFAULT_REGION)
    kinds = {row[0]: row[1:3] for row in detail.token_rows}
    prices = book.models[GPT_OSS][DEFAULT_REGION].prices
    assert prices.priority is not None
    assert kinds["priority"] == [f"{prices.priority.input:.6g}", f"{prices.priority.output:.6g}"]
    assert kinds["latency-optimised"] == ["-", "-"]
    assert any(line.startswith("Provisioned Throughput: no price known") for line in detail.lines)
    assert price_details(book, "acme.unknown-v1") == []
