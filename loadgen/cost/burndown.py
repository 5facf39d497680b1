"""Each model's output burndown rate for Bedrock's token quotas, and its name in Service Quotas.

The shipped catalogue (burndown.yaml) names its sources. A cross-region inference profile id
(`us.`, `eu.`, `global.` ...) or an ARN resolves to its base model; a model the catalogue does
not know counts output 1:1 (AWS's rate "for all other models"), flagged as a default.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

from loadgen.cost.pricing import model_candidates

BUILTIN_PATH = Path(__file__).with_name("burndown.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class BurndownEntry(_Strict):
    burndown: float = Field(ge=1)
    quota_name: str = Field(min_length=1)
    note: str = ""


@dataclass(frozen=True, slots=True)
class Burndown:
    rate: float
    catalogue_id: str | None  # None: not in the catalogue, the default rate
    quota_name: str | None


class BurndownBook(_Strict):
    default_burndown: float = Field(1.0, ge=1)
    source: str
    models: dict[str, BurndownEntry]

    @classmethod
    def builtin(cls) -> BurndownBook:
        return _builtin()

    def resolve(self, model_id: str) -> Burndown:
        for candidate in model_candidates(model_id):
            entry = self.models.get(candidate)
            if entry is not None:
                return Burndown(entry.burndown, candidate, entry.quota_name)
        return Burndown(self.default_burndown, None, None)


@functools.cache
def _builtin() -> BurndownBook:
    # Read once: every Recorder resolves its models' rates, and the book is frozen.
    return BurndownBook.model_validate(yaml.safe_load(BUILTIN_PATH.read_text(encoding="utf-8")))
