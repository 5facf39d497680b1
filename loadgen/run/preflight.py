"""Checks before load starts: one cheap call per model (maxTokens 1), so that a wrong model id,
a model not enabled, rejected credentials or an endpoint that is not there stop the run before
it has sent anything, with one line that says what to fix.

Only definite configuration faults stop the run. Throttles, 5xx and slow answers are what a load
test is there to measure, so they pass.
"""

from __future__ import annotations

import asyncio
from datetime import date

from loadgen.core.errors import PreflightError
from loadgen.core.sample import ErrorClass
from loadgen.cost.lifecycle import LifecycleBook
from loadgen.engine.backend import Backend, Timeline
from loadgen.engine.request import Prompt, Request

PROBE_PROMPT = Prompt(row_id="preflight", system=None, user="Reply with one word: ok")
PROBE_TIMEOUT_S = 30.0


async def check_models(
    backend: Backend, models: list[str], endpoint: str, api: str | None = None
) -> None:
    """Raise PreflightError listing every model that cannot be used, each with its fix.
    `api`: the API to probe through when the run uses several (a replay probes each it
    uses, which also opens its connection before load)."""
    timelines = await asyncio.gather(*(_probe(backend, model, api) for model in models))
    problems = [
        problem
        for model, timeline in zip(models, timelines, strict=True)
        if (problem := _problem(model, timeline, endpoint)) is not None
    ]
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        raise PreflightError(
            f"preflight failed; nothing was sent under load:\n{lines}\n"
            "(--skip-preflight skips these checks)"
        )


def lifecycle_warnings(models: list[str], today: date, emulated: bool) -> list[str]:
    """A line per legacy or end-of-life model of a run (AWS's model lifecycle, as dated in
    loadgen/cost/lifecycle.yaml). They never stop a run: a legacy model still answers, and an
    end-of-life one fails preflight on AWS by itself. On the emulator, which answers any model,
    an end-of-life line says the figures describe a model AWS no longer serves."""
    book = LifecycleBook.builtin()
    lines = []
    for model in dict.fromkeys(models):
        found = book.resolve(model, today)
        consequence = (
            "; the emulator still answers it: these figures are for a model AWS no longer serves"
            if emulated
            else "; this run will fail on AWS"
        )
        line = None if found is None else found.warning(consequence)
        if line is not None:
            lines.append(line)
    return lines


async def _probe(backend: Backend, model: str, api: str | None = None) -> Timeline:
    timeline = Timeline()
    request = Request(request_id=-1, model=model, prompt=PROBE_PROMPT, max_tokens=1, api=api)
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_S):
            await backend.execute(request, timeline)
    except TimeoutError:
        timeline.fail(ErrorClass.TIMEOUT, "PreflightTimeout")
    return timeline


# Failures to open a connection at all, as opposed to a connection dropped mid-answer (which
# is a fault worth measuring under load).
CONNECT_FAILURES = {"EndpointConnectionError", "ClientConnectorError", "ConnectTimeoutError"}


def _problem(model: str, timeline: Timeline, endpoint: str) -> str | None:
    code = timeline.error_code or ""
    if code in CONNECT_FAILURES:
        return f"{model}: cannot connect to {endpoint} ({code}); check the URL or the region"
    if timeline.error is not ErrorClass.CLIENT:
        return None
    if timeline.http_status == 401:  # OpenAI-compatible servers; AWS answers 403
        return (
            f"{model}: the server rejected the request's credentials (HTTP 401 {code}); "
            "check the key in the variable target.api_key_env names"
        )
    if code in (
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "ExpiredTokenException",
    ):
        return f"{model}: AWS rejected the credentials ({code}); refresh or replace them"
    if code == "AccessDeniedException":
        return (
            f"{model}: access denied; enable the model in the Bedrock console (Model access) "
            "for this region and allow bedrock:InvokeModelWithResponseStream"
        )
    if code in ("ResourceNotFoundException", "ValidationException"):
        return (
            f"{model}: not usable here ({code}: {_reason(timeline)}); check the model id and "
            "whether this region (or an inference profile such as us.<model id>) offers it"
        )
    return f"{model}: {code}: {_reason(timeline)}"


def _reason(timeline: Timeline) -> str:
    message = timeline.error_message or ""
    return message.split(": ", 1)[-1][:200]
