"""The backend that speaks each API loadgen can drive (loadgen/config/apis.py names them).
Backend modules are imported only when chosen: each pulls in its SDK or HTTP client."""

from __future__ import annotations

import os
from collections.abc import Callable

from loadgen.config.apis import INVOKE_APIS, STREAMING, is_openai
from loadgen.config.scenario import TargetSpec, TimeoutSpec
from loadgen.core.errors import ConfigError, PreflightError
from loadgen.engine.backend import Backend, Timeline
from loadgen.engine.request import Request


def check_invoke_models(apis: list[str], models: list[str], source: str) -> None:
    """InvokeModel needs a native body; loadgen builds them for Anthropic and Nova only."""
    # Only for InvokeModel runs: the native bodies' module is otherwise never loaded.
    from loadgen.backends.invoke_bodies import model_family

    if not INVOKE_APIS.intersection(apis):
        return
    problems = [
        f"models[{index}]: {model} has no native InvokeModel body in loadgen (it builds "
        "them for anthropic.* and amazon.nova* models); use api: bedrock-converse-stream "
        "or bedrock-converse for it"
        for index, model in enumerate(models)
        if model_family(model) is None
    ]
    if problems:
        raise ConfigError(problems, source)


def api_key(target: TargetSpec) -> str | None:
    """The API key from the environment variable the scenario names. Never logged."""
    if target.api_key_env is None:
        return None
    key = os.environ.get(target.api_key_env)
    if not key:
        raise PreflightError(
            f"target.api_key_env names {target.api_key_env}, which is not set or empty; "
            f"export {target.api_key_env}=<your key>, or drop api_key_env for a server "
            "without authentication"
        )
    return key


def make_backend(
    api: str,
    target: TargetSpec,
    timeouts: TimeoutSpec,
    *,
    pool_size: int,
    static_credentials: dict[str, str] | None = None,
) -> Backend:
    # Each backend module is imported only when chosen: it loads its SDK or HTTP client
    # (aioboto3 takes about a second), which a run through another API does not need.
    if is_openai(api):
        from loadgen.backends.openai_chat import OpenAIChatBackend

        return OpenAIChatBackend(
            target,
            timeouts,
            pool_size=pool_size,
            stream=api in STREAMING,
            api_key=api_key(target),
        )
    from loadgen.backends.bedrock import BedrockBackend
    from loadgen.backends.bedrock_converse import BedrockConverseBackend
    from loadgen.backends.bedrock_invoke import BedrockInvokeBackend, BedrockInvokeStreamBackend

    classes: dict[str, Callable[..., Backend]] = {
        "bedrock-converse-stream": BedrockBackend,
        "bedrock-converse": BedrockConverseBackend,
        "bedrock-invoke-stream": BedrockInvokeStreamBackend,
        "bedrock-invoke": BedrockInvokeBackend,
    }
    return classes[api](
        target, timeouts, pool_size=pool_size, static_credentials=static_credentials
    )


class ApiRouter:
    """One backend per API of the run; each request goes to the one its `api` names (the
    first API when it names none, as preflight's probes do)."""

    def __init__(self, backends: dict[str, Backend]) -> None:
        self._backends = backends
        self._first = next(iter(backends.values()))

    async def start(self) -> None:
        for backend in self._backends.values():
            await backend.start()

    async def execute(self, request: Request, timeline: Timeline) -> None:
        backend = self._backends.get(request.api) if request.api else self._first
        await (backend or self._first).execute(request, timeline)

    async def close(self) -> None:
        for backend in self._backends.values():
            await backend.close()
