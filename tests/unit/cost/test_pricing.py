"""The price catalogue: what ships, how ids and regions resolve, and a scenario's overrides."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from loadgen.config.price_override import PriceOverride
from loadgen.core.errors import ConfigError
from loadgen.cost.pricing import (
    ANY_REGION,
    DEFAULT_REGION,
    PriceBook,
    TokenPrices,
    price_listing,
    unknown_models,
    unpriced_message,
)

NOVA_LITE = "amazon.nova-lite-v1:0"
SONNET_37 = "anthropic.claude-3-7-sonnet-20250219-v1:0"
SONNET_45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
LLAMA_8B = "meta.llama3-1-8b-instruct-v1:0"


@pytest.fixture(scope="module")
def book() -> PriceBook:
    return PriceBook.builtin()


# --- the shipped catalogue -----------------------------------------------------------------


def test_every_entry_names_its_source_and_date(book: PriceBook) -> None:
    for regions in book.models.values():
        assert DEFAULT_REGION in regions
        for entry in regions.values():
            assert entry.source.startswith("https://")
            assert entry.as_of is not None
            assert entry.note
            # Caching is all or nothing: a read price without a write price would be a typo.
            assert (entry.prices.cache_read is None) == (entry.prices.cache_write is None)


@pytest.mark.parametrize(
    ("model_id", "input_price", "output_price"),
    [
        ("amazon.nova-micro-v1:0", 0.035, 0.14),
        (NOVA_LITE, 0.06, 0.24),
        ("amazon.nova-pro-v1:0", 0.80, 3.20),
        ("amazon.nova-premier-v1:0", 2.50, 12.50),
        ("anthropic.claude-3-haiku-20240307-v1:0", 0.25, 1.25),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", 0.80, 4.00),
        (SONNET_37, 3.00, 15.00),
        ("anthropic.claude-sonnet-4-20250514-v1:0", 3.00, 15.00),
        (LLAMA_8B, 0.22, 0.22),
        ("meta.llama3-1-70b-instruct-v1:0", 0.72, 0.72),
        ("meta.llama3-3-70b-instruct-v1:0", 0.72, 0.72),
    ],
)
def test_us_east_1_list_prices(
    book: PriceBook, model_id: str, input_price: float, output_price: float
) -> None:
    prices = book.models[model_id][DEFAULT_REGION].prices
    assert (prices.input, prices.output) == (input_price, output_price)


def test_cache_prices_follow_each_provider_ratio(book: PriceBook) -> None:
    for model_id, regions in book.models.items():
        prices = regions[DEFAULT_REGION].prices
        if "anthropic.claude" in model_id and prices.cache_read is not None:
            # Claude: read 0.1x input, 5-minute write 1.25x input; e.g. 3.00 -> 0.30 and 3.75.
            assert prices.cache_read == pytest.approx(prices.input * 0.1)
            assert prices.cache_write == pytest.approx(prices.input * 1.25)
        if model_id.startswith("amazon.nova") and prices.cache_read is not None:
            # Nova: read 0.25x input (0.06 -> 0.015), no write charge. (Nova 2 Lite's cache
            # prices are not in its source: null, unknown.)
            assert prices.cache_read == pytest.approx(prices.input * 0.25)
            assert prices.cache_write == 0.0
    haiku_3 = book.models["anthropic.claude-3-haiku-20240307-v1:0"][DEFAULT_REGION].prices
    assert (haiku_3.cache_read, haiku_3.cache_write) == (None, None)  # no caching on Bedrock


def test_prices_must_be_non_negative() -> None:
    with pytest.raises(ValidationError):
        TokenPrices(input=-0.1, output=1.0)
    with pytest.raises(ValidationError):
        TokenPrices(input=0.1, output=float("inf"))


def test_a_bad_catalogue_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "prices.yaml"
    path.write_text("models:\n  m:\n    us-east-1:\n      prices: {input: 1}\n      source: x\n")
    with pytest.raises(ConfigError) as caught:
        PriceBook.load(path)
    assert "models.m.us-east-1.prices.output: required key is missing" in str(caught.value)
    with pytest.raises(ConfigError, match="cannot read"):
        PriceBook.load(tmp_path / "missing.yaml")


# --- resolving ids and regions --------------------------------------------------------------


def test_exact_id_in_its_own_region(book: PriceBook) -> None:
    resolved = book.resolve(NOVA_LITE, "us-west-2")
    assert resolved is not None
    assert (resolved.catalogue_id, resolved.region, resolved.fell_back) == (
        NOVA_LITE,
        "us-west-2",
        False,
    )
    assert resolved.model_id == NOVA_LITE
    assert resolved.source == "https://aws.amazon.com/bedrock/pricing/"
    assert resolved.as_of is not None


@pytest.mark.parametrize("prefix", ["us", "eu", "apac", "us-gov", "global"])
def test_profile_ids_resolve_to_the_base_model(book: PriceBook, prefix: str) -> None:
    # Geographic profiles are billed at the source region's price of the base model, and so is
    # global. on models the catalogue has no global entry for.
    resolved = book.resolve(f"{prefix}.{SONNET_37}", DEFAULT_REGION)
    assert resolved is not None
    assert resolved.catalogue_id == SONNET_37
    assert resolved.model_id == f"{prefix}.{SONNET_37}"
    assert resolved.prices == book.models[SONNET_37][DEFAULT_REGION].prices


def test_global_profile_of_claude_4_5_is_ten_percent_below_regional(book: PriceBook) -> None:
    regional = book.resolve(f"us.{SONNET_45}", DEFAULT_REGION)
    in_region = book.resolve(SONNET_45, DEFAULT_REGION)
    global_ = book.resolve(f"global.{SONNET_45}", DEFAULT_REGION)
    assert regional is not None and in_region is not None and global_ is not None
    assert regional.catalogue_id == in_region.catalogue_id == SONNET_45
    assert global_.catalogue_id == f"global.{SONNET_45}"
    # 3.00 global x 1.10 = 3.30 regional; 15.00 x 1.10 = 16.50.
    assert global_.prices.input == 3.00 and regional.prices.input == pytest.approx(3.30)
    assert global_.prices.output == 15.00 and regional.prices.output == pytest.approx(16.50)


def test_an_arn_resolves_by_the_id_after_its_slash(book: PriceBook) -> None:
    arn = f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.{NOVA_LITE}"
    resolved = book.resolve(arn, DEFAULT_REGION)
    assert resolved is not None and resolved.catalogue_id == NOVA_LITE
    opaque = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3"
    assert book.resolve(opaque, DEFAULT_REGION) is None


def test_a_region_without_a_price_falls_back_to_us_east_1_flagged(book: PriceBook) -> None:
    resolved = book.resolve(SONNET_37, "eu-central-1")
    assert resolved is not None
    assert (resolved.region, resolved.fell_back) == (DEFAULT_REGION, True)
    assert resolved.prices.input == 3.00


def test_an_unknown_prefix_is_not_stripped(book: PriceBook) -> None:
    assert book.resolve(f"mars.{NOVA_LITE}", DEFAULT_REGION) is None
    assert book.resolve("us.", DEFAULT_REGION) is None


# --- scenario overrides ---------------------------------------------------------------------


def test_an_override_without_region_replaces_the_price_everywhere(book: PriceBook) -> None:
    changed = book.with_overrides({NOVA_LITE: {"input": 0.05, "output": 0.20}})
    for region in ("us-east-1", "us-west-2", "ap-south-1"):
        resolved = changed.resolve(NOVA_LITE, region)
        assert resolved is not None
        assert (resolved.prices.input, resolved.prices.output) == (0.05, 0.20)
        assert resolved.prices.cache_read is None
        assert (resolved.region, resolved.fell_back) == (ANY_REGION, False)
        assert resolved.source == "scenario" and resolved.as_of is None
    # The builtin book is untouched.
    original = book.resolve(NOVA_LITE, "us-east-1")
    assert original is not None and original.prices.input == 0.06


def test_an_override_with_region_changes_that_region_only(book: PriceBook) -> None:
    changed = book.with_overrides(
        {SONNET_37: {"input": 3.3, "output": 16.5, "region": "eu-west-1"}}
    )
    eu = changed.resolve(SONNET_37, "eu-west-1")
    us = changed.resolve(SONNET_37, "us-east-1")
    assert eu is not None and us is not None
    assert (eu.prices.input, eu.region, eu.fell_back, eu.source) == (
        3.3,
        "eu-west-1",
        False,
        "scenario",
    )
    assert us.prices.input == 3.00 and us.source.startswith("https://")


def test_an_override_adds_a_model_and_prices_its_profiles(book: PriceBook) -> None:
    new = "acme.widget-v1:0"
    override = PriceOverride(input=1.0, output=2.0, cache_read=0.1, cache_write=1.25)
    changed = book.with_overrides({new: override})
    resolved = changed.resolve(f"us.{new}", "us-west-2")
    assert resolved is not None
    assert resolved.catalogue_id == new
    assert resolved.prices == TokenPrices(input=1.0, output=2.0, cache_read=0.1, cache_write=1.25)
    assert unknown_models(changed, [new], "us-west-2") == []


def test_an_override_priced_for_one_other_region_is_used_flagged(book: PriceBook) -> None:
    changed = book.with_overrides(
        {"acme.widget-v1:0": {"input": 1, "output": 2, "region": "eu-west-1"}}
    )
    resolved = changed.resolve("acme.widget-v1:0", "us-east-1")
    assert resolved is not None
    assert (resolved.region, resolved.fell_back) == ("eu-west-1", True)


def test_bad_overrides_list_every_problem(book: PriceBook) -> None:
    with pytest.raises(ConfigError) as caught:
        book.with_overrides(
            {
                "a.b-v1:0": {"input": -1, "output": 1},
                "c.d-v1:0": {"input": 1},
                "e.f-v1:0": {"input": 1, "output": 1, "currency": "EUR"},
            }
        )
    message = str(caught.value)
    assert "3 problems" in message
    assert "pricing.a.b-v1:0.input: Input should be greater than or equal to 0" in message
    assert "pricing.c.d-v1:0.output: required key is missing" in message
    assert "pricing.e.f-v1:0.currency: unknown key" in message


# --- unknown models and the message that names them -----------------------------------------


def test_unknown_models_keeps_order_and_drops_repeats(book: PriceBook) -> None:
    ids = ["x.one-v1", NOVA_LITE, "us.x.two-v1", "x.one-v1", f"eu.{SONNET_37}"]
    assert unknown_models(book, ids, "eu-west-1") == ["x.one-v1", "us.x.two-v1"]
    assert unknown_models(book, [NOVA_LITE], "eu-west-1") == []


def test_the_message_names_each_model_and_its_example_is_a_valid_pricing_block(
    book: PriceBook,
) -> None:
    models = ["acme.widget-v1:0", "us.acme.gadget-v2:0"]
    message = unpriced_message(models)
    assert "no price is known for 2 models: acme.widget-v1:0, us.acme.gadget-v2:0." in message
    assert "--allow-unpriced" in message
    block = message[message.index("  pricing:") : message.index("\nor run with")]
    pricing = yaml.safe_load(block)["pricing"]
    assert list(pricing) == models
    assert unknown_models(book.with_overrides(pricing), models, "us-east-1") == []
    assert unpriced_message(["one.m"]).startswith("no price is known for one.m.")
    assert unpriced_message([]) == ""


# --- the `loadgen prices` table -------------------------------------------------------------


def _columns(book: PriceBook, today: date, max_age_days: int) -> dict[str, list[str]]:
    listing = price_listing(book, today, max_age_days)
    return {header: [row[i] for row in listing.rows] for i, header in enumerate(listing.headers)}


def test_price_table_has_a_row_per_model_and_region(book: PriceBook) -> None:
    listing = price_listing(book, date(2025, 8, 1), max_age_days=180)
    headers = listing.headers
    assert headers == [
        "model",
        "region",
        "input",
        "output",
        "cache read",
        "cache write",
        "1h write",
        "long context",
        "also",
        "as of",
        "age",
        "source",
    ]
    assert len(listing.rows) == sum(len(regions) for regions in book.models.values())
    cells = _columns(book, date(2025, 8, 1), 180)
    row = cells["model"].index("amazon.nova-micro-v1:0")
    assert [cells[h][row] for h in headers[1:]] == [
        "us-east-1",
        "0.035",
        "0.14",
        "0.00875",
        "0",
        "-",
        "-",
        "batch",
        "2025-07-20",
        "12 d",
        "[1]",
    ]
    assert listing.sources[0] == "https://aws.amazon.com/bedrock/pricing/"
    llama = cells["model"].index(LLAMA_8B)
    assert (cells["cache read"][llama], cells["cache write"][llama]) == ("-", "-")
    sonnet = cells["model"].index(SONNET_45)
    assert (cells["1h write"][sonnet], cells["long context"][sonnet]) == (
        "6.6",
        ">200K: 6.6 / 24.75",
    )


def test_the_also_column_names_every_other_way_an_entry_is_sold(book: PriceBook) -> None:
    cells = _columns(book, date(2026, 12, 1), 180)
    for model, region, also in zip(cells["model"], cells["region"], cells["also"], strict=True):
        prices = book.models[model][region].prices
        named = set(also.split()) - {"-"}
        assert ("prio" in named) == (prices.priority is not None)
        assert ("flex" in named) == (prices.flex is not None)
        assert ("batch" in named) == (prices.batch is not None)
        assert ("lat-opt" in named) == (prices.latency_optimized is not None)


def test_every_row_points_to_its_source(book: PriceBook) -> None:
    listing = price_listing(book, date(2025, 8, 1), max_age_days=180)
    cells = _columns(book, date(2025, 8, 1), 180)
    for model, region, source in zip(cells["model"], cells["region"], cells["source"], strict=True):
        number = int(source.strip("[]"))
        assert listing.sources[number - 1] == book.models[model][region].source


def test_prices_older_than_the_limit_are_flagged(book: PriceBook) -> None:
    # The catalogue's dates: 2025-07-20, 2026-02-14 and 2026-08-21. On 2026-03-01, 180 days back
    # is 2025-09-02: every 2025-07-20 entry (224 days old) is flagged, none of the later ones.
    cells = _columns(book, date(2026, 3, 1), 180)
    flagged = [age.endswith("old[/yellow]") for age in cells["age"]]
    assert flagged == [as_of == "2025-07-20" for as_of in cells["as of"]]
    assert price_listing(book, date(2026, 3, 1), 180).stale == sum(flagged) > 0
    assert price_listing(book, date(2026, 3, 1), max_age_days=365).stale == 0


def test_price_table_shows_scenario_prices_as_any_region(book: PriceBook) -> None:
    overridden = book.with_overrides({"acme.w-v1": {"input": 1, "output": 2}})
    listing = price_listing(overridden, date(2030, 1, 1), max_age_days=0)
    cells = _columns(overridden, date(2030, 1, 1), 0)
    row = cells["model"].index("acme.w-v1")
    # Undated: the user's own price is never flagged as old.
    assert (cells["region"][row], cells["as of"][row], cells["age"][row]) == ("any", "-", "-")
    assert listing.sources[int(cells["source"][row].strip("[]")) - 1] == "scenario"


def test_a_listing_of_some_models_has_their_rows_only(book: PriceBook) -> None:
    listing = price_listing(book, date(2026, 12, 1), 180, [NOVA_LITE])
    assert {row[0] for row in listing.rows} == {NOVA_LITE}
    assert len(listing.rows) == len(book.models[NOVA_LITE])
