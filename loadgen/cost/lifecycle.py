"""Where each Bedrock model stands in AWS's model lifecycle (Active, Legacy, End-of-Life), from
the dated catalogue shipped beside the prices (lifecycle.yaml), and the warning each earns.

A status is never stored: it follows from the entry's dates and the day it is asked for, so a
model turns legacy, then end of life, on the dates AWS announced without the file changing.
A cross-region inference profile id (`us.`, `global.` ...) or an ARN resolves to its base model,
as prices do; a model the catalogue does not know has no status and earns no warning.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from loadgen.cost.pricing import model_candidates

BUILTIN_PATH = Path(__file__).with_name("lifecycle.yaml")


class Status(StrEnum):
    ACTIVE = "active"
    LEGACY = "legacy"  # still served, to existing users; an EOL date is set
    END_OF_LIFE = "end_of_life"  # requests to it fail on AWS


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LifecycleEntry(_Strict):
    name: str = Field(min_length=1)
    legacy_date: date | None = None
    extended_access_date: date | None = None  # higher, provider-set prices from this day
    end_of_life_date: date | None = None
    successor: str | None = None  # the replacement the lifecycle page names, if it names one
    source: str = Field(min_length=1)  # a key of LifecycleBook.sources
    priced: bool = True  # False: pricing.yaml has no sourced price for it (the note says why)
    note: str = ""

    @model_validator(mode="after")
    def _dates_in_order(self) -> LifecycleEntry:
        dates = [self.legacy_date, self.extended_access_date, self.end_of_life_date]
        known = [day for day in dates if day is not None]
        if known != sorted(known):
            raise ValueError("dates must run legacy, extended access, end of life")
        return self

    def status(self, today: date) -> Status:
        if self.end_of_life_date is not None and today >= self.end_of_life_date:
            return Status.END_OF_LIFE
        if self.legacy_date is not None and today >= self.legacy_date:
            return Status.LEGACY
        return Status.ACTIVE


@dataclass(frozen=True, slots=True)
class ModelLifecycle:
    """One model's standing on a given day, as a run or `loadgen prices` reports it."""

    model_id: str  # as the caller wrote it
    catalogue_id: str
    entry: LifecycleEntry
    status: Status
    source: str  # the page's URL

    def warning(self, end_of_life_consequence: str = "") -> str | None:
        """One line for a legacy or end-of-life model, its source last; None for an active one.
        `end_of_life_consequence`: what that means for the caller, said after an end of life."""
        entry = self.entry
        successor = f"; AWS names {entry.successor} as its replacement" if entry.successor else ""
        if self.status is Status.END_OF_LIFE:
            since = (
                f"on {entry.end_of_life_date.isoformat()}"
                if entry.end_of_life_date is not None
                else "(date not in loadgen's copy of the page)"
            )
            return (
                f"{self.model_id} ({entry.name}) reached end of life on Bedrock {since}: "
                f"requests to it fail on AWS{successor}{end_of_life_consequence} ({self.source})"
            )
        if self.status is Status.LEGACY:
            assert entry.legacy_date is not None  # status() says legacy only after that date
            end = (
                f"; end of life on {entry.end_of_life_date.isoformat()}"
                if entry.end_of_life_date is not None
                else ""
            )
            extended = (
                f"; public extended access (higher, provider-set prices) from "
                f"{entry.extended_access_date.isoformat()}"
                if entry.extended_access_date is not None
                else ""
            )
            return (
                f"{self.model_id} ({entry.name}) is legacy on Bedrock since "
                f"{entry.legacy_date.isoformat()}{end}{extended}: new accounts cannot use it "
                f"and prices may rise; plan a move to an active model{successor} ({self.source})"
            )
        return None


class LifecycleBook(_Strict):
    sources: dict[str, str]
    read_on: date
    models: dict[str, LifecycleEntry]

    @model_validator(mode="after")
    def _sources_known(self) -> LifecycleBook:
        unknown = sorted({e.source for e in self.models.values()} - set(self.sources))
        if unknown:
            raise ValueError(f"entries name sources not listed under sources: {unknown}")
        return self

    @classmethod
    def builtin(cls) -> LifecycleBook:
        return _builtin()

    def resolve(self, model_id: str, today: date) -> ModelLifecycle | None:
        for candidate in model_candidates(model_id):
            entry = self.models.get(candidate)
            if entry is not None:
                return ModelLifecycle(
                    model_id, candidate, entry, entry.status(today), self.sources[entry.source]
                )
        return None


@functools.cache
def _builtin() -> LifecycleBook:
    # Read once: a run, a sweep's stages and `loadgen prices` all ask; the book is frozen.
    return LifecycleBook.model_validate(yaml.safe_load(BUILTIN_PATH.read_text(encoding="utf-8")))
