"""Runs against the built-in emulator: starting it with the scenario's profiles, pointing the
target at it, and the quota it holds each model to."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from loadgen.config.apis import is_openai
from loadgen.config.scenario import Scenario, TargetSpec
from loadgen.core.errors import ConfigError, PreflightError
from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.emulator.process import EmulatorStartError
from loadgen.emulator.profiles import quota_pool

EMULATOR_REGION = "us-east-1"


def start_emulator(scenario: Scenario) -> EmulatorProcess:
    """The built-in emulator with the scenario's profiles, started (a context manager)."""
    process = EmulatorProcess(emulator_config(scenario))
    try:
        process.start()
    except EmulatorStartError as exc:
        raise PreflightError(f"the built-in emulator did not start: {exc}") from None
    return process


def emulated_quota(scenario: Scenario, model: str) -> dict[str, Any] | None:
    """The quota the built-in emulator holds `model` to under --emulate; None: unlimited."""
    config = emulator_config(scenario)
    quota = config.quota_for(config.profile_for(model), quota_pool(model))
    if quota is None:
        return None
    return {
        "rpm": quota.rpm,
        "tpm": quota.tpm,
        "tpd": quota.tpd,
        "output_burndown": quota.output_burndown,
    }


def emulated_target(target: TargetSpec, emulator_url: str) -> TargetSpec:
    # The emulator serves OpenAI's API under /v1, the base URL OpenAI's SDK takes.
    url = f"{emulator_url}/v1" if is_openai(target.api) else emulator_url
    return target.model_copy(
        update={"endpoint_url": url, "region": target.region or EMULATOR_REGION}
    )


def emulator_config(scenario: Scenario) -> EmulatorConfig:
    """The built-in profiles, with the scenario's `emulator:` section laid over them."""
    builtin = EmulatorConfig.builtin()
    try:
        given = EmulatorConfig.model_validate(scenario.emulator or {})
    except ValidationError as exc:
        problems = [
            f"emulator.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        ]
        raise ConfigError(problems, str(scenario.base_dir)) from None
    if scenario.emulator is None:
        return builtin
    return given.model_copy(update={"profiles": {**builtin.profiles, **given.profiles}})
