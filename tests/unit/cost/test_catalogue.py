"""The shipped catalogue holds together: every price has a source and a date, every model in it
has a lifecycle entry and an emulator profile, and the models a scenario is written on resolve
through their inference-profile ids."""

from __future__ import annotations

from datetime import date

from loadgen.cost.burndown import BurndownBook
from loadgen.cost.lifecycle import LifecycleBook, Status
from loadgen.cost.pricing import PROFILE_PREFIXES, PriceBook
from loadgen.emulator.profiles import EmulatorConfig

TODAY = date(2026, 12, 3)
# scenarios/support_agent.yaml's models (the "config" helper writes that scenario).
SUPPORT_AGENT = (
    "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
    "global.anthropic.claude-haiku-4-5-20251001-v1:0",
)


def _base(model_id: str) -> str:
    prefix, dot, rest = model_id.partition(".")
    return rest if dot and prefix in PROFILE_PREFIXES else model_id


def test_every_price_has_a_source_a_date_and_a_note() -> None:
    for model, regions in PriceBook.builtin().models.items():
        for region, entry in regions.items():
            where = f"{model} in {region}"
            assert entry.source.startswith("https://"), where
            assert entry.as_of is not None and entry.as_of <= TODAY, where
            assert entry.note.strip(), where


def test_every_priced_model_has_a_lifecycle_entry_and_an_emulator_profile() -> None:
    lifecycle = LifecycleBook.builtin()
    profiles = EmulatorConfig.builtin()
    for model in PriceBook.builtin().models:
        assert lifecycle.resolve(model, TODAY) is not None, model
        assert _base(model) in profiles.profiles, model


def test_lifecycle_entries_name_a_source_and_unpriced_ones_say_why() -> None:
    book = LifecycleBook.builtin()
    prices = PriceBook.builtin()
    assert book.read_on <= TODAY
    for model, entry in book.models.items():
        assert book.sources[entry.source].startswith("https://docs.aws.amazon.com/bedrock/")
        if entry.priced:
            assert model in prices.models, f"{model} is marked priced but has no price"
        else:
            assert model not in prices.models and entry.note, model
        if entry.status(TODAY) is Status.ACTIVE:  # an active model one can run is emulated
            assert model in EmulatorConfig.builtin().profiles, model


def test_the_support_agent_models_are_priced_profiled_and_their_status_known() -> None:
    prices = PriceBook.builtin()
    lifecycle = LifecycleBook.builtin()
    profiles = EmulatorConfig.builtin()
    for model in SUPPORT_AGENT:
        price = prices.resolve(model, "us-east-1")
        assert price is not None and price.catalogue_id == model  # the global price itself
        assert profiles.profile_for(model) is profiles.profiles[_base(model)]
        found = lifecycle.resolve(model, TODAY)
        assert found is not None
    haiku = lifecycle.resolve(SUPPORT_AGENT[1], TODAY)
    assert haiku is not None and haiku.status is Status.ACTIVE


def test_every_claude_4_model_burns_output_at_five_times() -> None:
    burndown = BurndownBook.builtin()
    profiles = EmulatorConfig.builtin()
    claude_4 = [m for m in PriceBook.builtin().models if "claude" in m and "-4" in m]
    assert len(claude_4) >= 10
    for model in claude_4:
        assert burndown.resolve(model).rate == 5, model
        assert profiles.profile_for(model).quota.output_burndown == 5, model
