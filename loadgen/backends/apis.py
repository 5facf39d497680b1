"""The APIs loadgen can drive (`target.api`, `--api`), their streaming/non-streaming pairs,
and the backend that speaks each. Backend modules are imported only when chosen."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import get_args

from loadgen.backend import Backend, Request, Timeline
from loadgen.errors import ConfigError, PreflightError
from loadgen.scenario import ApiName, TargetSpec, TimeoutSpec

APIS: tuple[str, ...] = get_args(ApiName)
DEFAULT_API = "bedrock-converse-stream"

# The same family's other mode: what compare_streaming runs the prompts through as well.
STREAMING_PAIRS = {
    "bedrock-converse-stream": "bedrock-converse",
    "bedrock-invoke-stream": "bedrock-invoke",
    "openai-chat": "openai-chat-nostream",
}
STREAMING_PAIRS.update({b: a for a, b in list(STREAMING_PAIRS.items())})
STREAMING = frozenset({"bedrock-converse-stream", "bedrock-invoke-stream", "openai-chat"})
INVOKE_APIS = frozenset({"bedrock-invoke-stream", "bedrock-invoke"})


def is_openai(api: str) -> bool:
    return api.startswith("openai-")


def apis_of_run(api: str, compare_streaming: bool) -> list[str]:
    """The APIs a run sends through, in order: the chosen one first."""
    return [api, STREAMING_PAIRS[api]] if compare_streaming else [api]


def check_invoke_models(apis: list[str], models: list[str], source: str) -> None:
    """InvokeModel needs a native body; loadgen builds them for Anthropic and Nova only."""
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
