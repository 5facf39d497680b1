"""Before a run sends anything: the checks that stop it with a clear message (API, AWS
credentials and region, the output folder), and the backend it sends through."""

from __future__ import annotations

import gc
from pathlib import Path

from loadgen.backends.apis import ApiRouter, check_invoke_models
from loadgen.backends.apis import make_backend as make_api_backend
from loadgen.backends.bedrock_client import (
    EMULATOR_CREDENTIALS,
    BedrockClient,
    no_region_message,
)
from loadgen.config.apis import apis_of_run, is_openai
from loadgen.config.scenario import Scenario, TargetSpec
from loadgen.core.errors import ConfigError, PreflightError
from loadgen.core.redact import redact_text, register_secrets
from loadgen.engine.backend import Backend
from loadgen.run.emulated import emulated_target
from loadgen.run.out_folder import open_out_dir


def check_api_setup(scenario: Scenario, apis: list[str], emulated: bool) -> None:
    source = str(scenario.base_dir)
    check_invoke_models(apis, [m.id for m in scenario.models], source)
    if is_openai(scenario.target.api) and scenario.target.endpoint_url is None and not emulated:
        raise ConfigError(
            [
                f"target.endpoint_url: api {scenario.target.api} needs the server's base URL, "
                "e.g. http://127.0.0.1:8000/v1 (or add --emulate)"
            ],
            source,
        )


async def check_aws_setup(backend: BedrockClient, target: TargetSpec) -> tuple[str, str]:
    """AWS credentials and a region, before anything is sent. The credentials found are
    registered for redaction (loadgen/core/redact.py). Returns the region and where it came
    from, as `find_region` (loadgen/backends/bedrock_client.py) says: `("eu-west-1",
    "AWS_REGION")`."""
    try:
        session = backend.session()
        credentials = await session.get_credentials()
        frozen = None if credentials is None else await credentials.get_frozen_credentials()
    except Exception as exc:  # a broken profile or config file: say which, without secrets
        reason = redact_text(f"{type(exc).__name__}: {exc}")[:300]
        raise PreflightError(
            f"AWS credentials could not be loaded ({reason}). Check the profile (--profile, "
            "target.profile or AWS_PROFILE) and its entries in ~/.aws/config and "
            "~/.aws/credentials, or add --emulate to run against the built-in Bedrock emulator."
        ) from None
    if frozen is None:
        raise PreflightError(
            "no AWS credentials found. Configure them (aws configure, AWS_PROFILE, or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or add --emulate to run against "
            "the built-in Bedrock emulator."
        )
    register_secrets(frozen.access_key, frozen.secret_key, frozen.token)
    if backend.region is None:
        raise PreflightError(no_region_message(target))
    return backend.region


def make_backend(
    apis: list[str], target: TargetSpec, scenario: Scenario, credentials: dict[str, str] | None
) -> Backend:
    """One backend per API of the run; two (compare_streaming) behind a router."""
    backends = {
        api: make_api_backend(
            api,
            target,
            scenario.timeouts,
            pool_size=target.max_connections or scenario.load.max_in_flight,
            static_credentials=credentials,
        )
        for api in apis
    }
    return backends[apis[0]] if len(apis) == 1 else ApiRouter(backends)


def backend_for(scenario: Scenario, emulator_url: str | None) -> Backend:
    """A backend as run_async makes one, for runs that share it (not started)."""
    target = scenario.target
    credentials = None
    if emulator_url is not None:
        target = emulated_target(target, emulator_url)
        credentials = EMULATOR_CREDENTIALS
    apis = apis_of_run(target.api, scenario.compare_streaming)
    return make_backend(apis, target, scenario, credentials)


def prepare_out_dir(out_dir: Path | None, scenario_name: str) -> Path:
    """The folder the run writes: `out_dir`, or a new `reports/<scenario>-<UTC time>/`; made,
    checked writable, and locked until this process ends, so that no other run writes it
    (loadgen/run/out_folder.py). Whether it may already hold a run is the command's call
    (`claim_out_dir`, --force): a worker's or a sweep stage's folder is written over."""
    return open_out_dir(out_dir, scenario_name)


def freeze_setup_objects() -> None:
    """Keep the collector off what setup left behind.

    The SDK loads tens of thousands of long-lived objects (service models, endpoint rules,
    parsers). A full collection walks all of them again and pauses the event loop for about
    10 ms: a latency spike that belongs to the generator, not to the endpoint. Frozen objects
    are skipped; what the run itself allocates is still collected.
    """
    gc.collect()
    gc.freeze()
