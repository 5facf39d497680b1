"""Before a run sends anything: the checks that stop it with a clear message (API, AWS
credentials and region, the output folder), and the backend it sends through."""

from __future__ import annotations

import gc
from datetime import UTC, datetime
from pathlib import Path

from loadgen.backends.apis import ApiRouter, check_invoke_models
from loadgen.backends.apis import make_backend as make_api_backend
from loadgen.backends.bedrock_client import EMULATOR_CREDENTIALS, BedrockClient
from loadgen.config.apis import apis_of_run, is_openai
from loadgen.config.scenario import Scenario, TargetSpec
from loadgen.core.errors import ConfigError, PreflightError
from loadgen.engine.backend import Backend
from loadgen.run.emulated import emulated_target


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


async def check_aws_setup(backend: BedrockClient, target: TargetSpec) -> None:
    session = backend.session()
    try:
        credentials = await session.get_credentials()
    except Exception as exc:  # a broken profile or config file: say which, without secrets
        raise PreflightError(f"AWS credentials could not be loaded: {type(exc).__name__}") from None
    if credentials is None:
        raise PreflightError(
            "no AWS credentials found. Configure them (aws configure, AWS_PROFILE, or "
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or add --emulate to run against "
            "the built-in Bedrock emulator."
        )
    if not (target.region or session.region_name):
        raise PreflightError(
            "no AWS region set. Pass --region (e.g. us-east-1), set AWS_REGION, or put "
            "target.region in the scenario."
        )


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
    if out_dir is None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        out_dir = Path("reports") / f"{scenario_name}-{stamp}"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise PreflightError(
            f"cannot write to the output folder {out_dir}: {exc.strerror}; pass --out DIR"
        ) from None
    return out_dir


def freeze_setup_objects() -> None:
    """Keep the collector off what setup left behind.

    The SDK loads tens of thousands of long-lived objects (service models, endpoint rules,
    parsers). A full collection walks all of them again and pauses the event loop for about
    10 ms: a latency spike that belongs to the generator, not to the endpoint. Frozen objects
    are skipped; what the run itself allocates is still collected.
    """
    gc.collect()
    gc.freeze()
