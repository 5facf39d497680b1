"""A model's lifecycle status follows from its dates and the day asked, and earns a warning
when legacy or past its end of life (loadgen/cost/lifecycle.yaml)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from loadgen.cost.lifecycle import LifecycleBook, LifecycleEntry, Status
from loadgen.run.preflight import lifecycle_warnings

SONNET_4 = "anthropic.claude-sonnet-4-20250514-v1:0"
SONNET_45_GLOBAL = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU_45_GLOBAL = "global.anthropic.claude-haiku-4-5-20251001-v1:0"
TODAY = date(2026, 12, 3)


def _entry(legacy: date | None, end: date | None) -> LifecycleEntry:
    return LifecycleEntry(
        name="Model", legacy_date=legacy, end_of_life_date=end, source="lifecycle"
    )


def test_status_turns_legacy_then_end_of_life_on_the_dates_themselves() -> None:
    legacy, end = date(2026, 4, 14), date(2026, 10, 14)
    entry = _entry(legacy, end)
    one_day = timedelta(days=1)
    assert entry.status(legacy - one_day) is Status.ACTIVE
    assert entry.status(legacy) is Status.LEGACY
    assert entry.status(end - one_day) is Status.LEGACY
    assert entry.status(end) is Status.END_OF_LIFE
    assert _entry(None, None).status(date(2100, 1, 1)) is Status.ACTIVE
    assert _entry(None, end).status(end) is Status.END_OF_LIFE  # an EOL date alone suffices


def test_dates_out_of_order_are_refused() -> None:
    with pytest.raises(ValidationError, match="legacy, extended access, end of life"):
        _entry(date(2026, 10, 14), date(2026, 4, 14))


def test_the_models_the_issue_names_are_past_their_end_of_life_today() -> None:
    book = LifecycleBook.builtin()
    for model in (
        "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        SONNET_4,
        "anthropic.claude-3-haiku-20240307-v1:0",
        "amazon.nova-premier-v1:0",
    ):
        found = book.resolve(model, TODAY)
        assert found is not None, model
        assert found.status is Status.END_OF_LIFE, model
        assert found.entry.end_of_life_date is not None and found.entry.end_of_life_date <= TODAY


def test_profile_ids_and_arns_resolve_to_the_base_model() -> None:
    book = LifecycleBook.builtin()
    arn = f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET_4}"
    for model in (SONNET_4, f"us.{SONNET_4}", f"eu.{SONNET_4}", arn):
        found = book.resolve(model, TODAY)
        assert found is not None and found.catalogue_id == SONNET_4
    assert book.resolve("acme.own-v1", TODAY) is None


def test_warnings_name_dates_and_source_and_only_for_legacy_or_ended_models() -> None:
    book = LifecycleBook.builtin()
    ended = book.resolve(SONNET_4, TODAY)
    legacy = book.resolve(SONNET_45_GLOBAL, TODAY)
    active = book.resolve(HAIKU_45_GLOBAL, TODAY)
    assert ended is not None and legacy is not None and active is not None
    assert active.status is Status.ACTIVE and active.warning() is None
    assert legacy.status is Status.LEGACY
    line = legacy.warning()
    assert line is not None
    assert "legacy on Bedrock since 2026-10-08" in line and "end of life on 2027-04-08" in line
    assert legacy.source in line
    ended_line = ended.warning("; extra")
    assert ended_line is not None
    assert "reached end of life on Bedrock on 2026-10-14" in ended_line
    assert ended_line.index("; extra") < ended_line.index(ended.source)


def test_preflight_says_an_ended_model_fails_on_aws_and_only_warns_on_the_emulator() -> None:
    models = [f"us.{SONNET_4}", HAIKU_45_GLOBAL, f"us.{SONNET_4}"]
    (real,) = lifecycle_warnings(models, TODAY, emulated=False)
    assert real.endswith(
        f"; this run will fail on AWS ({LifecycleBook.builtin().sources['lifecycle']})"
    )
    (emulated,) = lifecycle_warnings(models, TODAY, emulated=True)
    assert "will fail" not in emulated and "the emulator still answers it" in emulated
    # Before the legacy date the same model earns nothing.
    assert lifecycle_warnings(models, date(2026, 4, 13), emulated=False) == []
