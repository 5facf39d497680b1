"""What produced a run, recorded in its report (run.provenance) so that `loadgen compare` can
tell whether two runs were made against the same thing (loadgen/compare/provenance.py).

run.target (where the requests went) and run.load (the load model) are already in the report;
this adds what they do not say: digests of the scenario and its dataset, and which emulator
version and profiles answered. A digest is the sha256 of a canonical JSON dump (sorted keys,
no spaces), so comments, key order and defaults spelled out in the YAML do not change it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel

from loadgen.config.scenario import Scenario, dataset_path
from loadgen.core.errors import ConfigError
from loadgen.emulator import EMULATOR_VERSION
from loadgen.report.schema import EmulatorProfileUsed, EmulatorProvenance, Provenance
from loadgen.run.emulated import emulator_config

# What the scenario's digest leaves out: what only names, judges or reports the run (a new
# threshold is not a new test), the seeds (a rerun with another seed is the same test), and
# what the report compares on its own: load (run.load), target (run.target) and emulator
# (run.provenance.emulator).
NOT_IN_SCENARIO_DIGEST = frozenset(
    {
        "name",
        "description",
        "seed",
        "load",
        "target",
        "emulator",
        "thresholds",
        "requirements",
        "quality",
        "cost",
        "cloudwatch",
        "sweep",
        "outcomes",  # which answers the latency figures count: a reporting choice
    }
)
# A profile's words, not its behaviour: left out of its digest.
_WORDS_ONLY: dict[str, Any] = {"description": True, "latency_optimized": {"description": True}}


def run_provenance(scenario: Scenario, emulated: bool) -> Provenance:
    """run.provenance for a run of `scenario`; `emulated` when the built-in emulator answered."""
    return {
        "scenario_sha256": scenario_sha256(scenario),
        "dataset_sha256": dataset_sha256(scenario),
        "emulator": emulator_provenance(scenario) if emulated else None,
    }


def scenario_sha256(scenario: Scenario) -> str:
    """The digest of what shapes the requests (NOT_IN_SCENARIO_DIGEST says what is left out).
    Values left at their defaults are left out too, so a new scenario key does not change
    the digest of a scenario that does not use it."""
    dumped = scenario.model_dump(
        mode="json", by_alias=True, exclude_defaults=True, exclude=set(NOT_IN_SCENARIO_DIGEST)
    )
    # Each model's request options as resolved (inherited from inference:, replaced or turned
    # off per model): a model's `cache: null` equals the default and would vanish from the dump
    # above, yet it changes every request of that model. Only when any option is set, so the
    # digest of a scenario without options stays as it was.
    resolved = {model.id: _jsonable(scenario.model_options(model.id)) for model in scenario.models}
    if any(value is not None for options in resolved.values() for value in options.values()):
        dumped["resolved_request_options"] = resolved
    return canonical_sha256(dumped)


def _jsonable(options: dict[str, Any]) -> dict[str, Any]:
    return {
        name: value.model_dump(mode="json") if isinstance(value, BaseModel) else value
        for name, value in options.items()
    }


def dataset_sha256(scenario: Scenario) -> str | None:
    """The dataset file's digest, byte for byte; None for rows given inline or generated (the
    scenario's digest holds those) or a file no longer there to read."""
    if scenario.dataset.path is None:
        return None
    try:
        return hashlib.sha256(dataset_path(scenario).read_bytes()).hexdigest()
    except (ConfigError, OSError):  # read at the start, gone by the end: report all the same
        return None


def emulator_provenance(scenario: Scenario) -> EmulatorProvenance:
    """Which emulator answers the scenario's models: its version, and per model the profile
    that answers it with a digest of that profile's settings as they run (a change to the
    built-in profiles or to the scenario's `emulator:` section changes it; the seed does not)."""
    config = emulator_config(scenario)
    profiles: dict[str, EmulatorProfileUsed] = {}
    for model in scenario.models:
        profile = config.profile_for(model.id)
        name = next((n for n, p in config.profiles.items() if p is profile), "default")
        quota, capacity = config.quota_for(profile), config.capacity
        settings = {
            "profile": profile.model_dump(mode="json", exclude=_WORDS_ONLY),
            "quota": None if quota is None else quota.model_dump(mode="json"),
            "capacity": None if capacity is None else capacity.model_dump(mode="json"),
        }
        profiles[model.id] = {"profile": name, "sha256": canonical_sha256(settings)}
    return {"version": EMULATOR_VERSION, "profiles": profiles}


def canonical_sha256(data: object) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
