"""How each model counts tokens, for synthetic prompts (loadgen/plan/synthetic.py): measured
in preflight from the server's own usage.

Two calibration requests per model (prompts of about 200 and 1,000 tokens by the default
ratio, maxTokens 1) give characters per token (the slope) and the tokens the server adds to
every request (the intercept: a chat template's role markers). A model whose family has a
published tokenizer (tiktoken: OpenAI, gpt-oss) counts text with it; calibration then gives
only the intercept. Without calibration (--skip-preflight, or a server that reports no usage)
a model gets its tokenizer, else the default of 4 characters a token. Report.json says which
(`dataset.token_method`).

Calibrations are kept for the process: the stages of a sweep, which skip preflight after the
first, count as the first did.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Iterable

from loadgen.engine.backend import Backend, Timeline
from loadgen.engine.request import Prompt, Request
from loadgen.plan.synthetic import (
    CharsPerToken,
    TokenCounter,
    calibrated_counter,
    make_prompt,
    tokenizer_counter,
)
from loadgen.plan.synthetic_prompts import SyntheticTexts

# The calibration prompts' sizes in tokens at the default ratio: two points for a line.
CALIBRATION_TOKENS = (200, 1000)
CALIBRATION_TIMEOUT_S = 30.0
_CALIBRATION_SEED = 7

# (endpoint, api, model) -> its counter: measured once a process.
_measured: dict[tuple[str, str, str], TokenCounter] = {}


async def token_counters(
    backend: Backend, models: Iterable[str], where: tuple[str, str], *, calibrate: bool
) -> dict[str, TokenCounter]:
    """Each model's counter. `where`: (endpoint, api), what a kept calibration is kept under;
    `calibrate`: send the calibration requests for a model not yet measured."""
    models = list(models)
    missing = [m for m in models if (*where, m) not in _measured]
    if calibrate and missing:
        found = await asyncio.gather(*(_calibrate(backend, model) for model in missing))
        for model, counter in zip(missing, found, strict=True):
            if counter is not None:
                _measured[(*where, model)] = counter
    return {model: _measured.get((*where, model)) or _unmeasured(model) for model in models}


def _unmeasured(model: str) -> TokenCounter:
    return tokenizer_counter(model) or CharsPerToken()


async def _calibrate(backend: Backend, model: str) -> TokenCounter | None:
    """The model's counter from two requests' usage; None when either gave no usage."""
    texts = [
        make_prompt(tokens, seed=_CALIBRATION_SEED, tokens=CharsPerToken())
        for tokens in CALIBRATION_TOKENS
    ]
    used = await asyncio.gather(*(_input_tokens(backend, model, text) for text in texts))
    if any(tokens is None or tokens < 1 for tokens in used):
        return None
    counts = [tokens for tokens in used if tokens is not None]
    tokenizer = tokenizer_counter(model)
    if tokenizer is not None:
        overhead = statistics.median_low(
            max(0, count - tokenizer.count(text)) for count, text in zip(counts, texts, strict=True)
        )
        return tokenizer.with_overhead(overhead)
    short, long = ((len(text), count) for text, count in zip(texts, counts, strict=True))
    return calibrated_counter(short, long)


async def _input_tokens(backend: Backend, model: str, text: str) -> int | None:
    """All the input tokens the server counted for a request of this text (cache reads and
    writes included: they are input too), or None when it failed or reported none."""
    timeline = Timeline()
    prompt = Prompt(row_id="calibration", system=None, user=text)
    request = Request(request_id=-1, model=model, prompt=prompt, max_tokens=1)
    try:
        async with asyncio.timeout(CALIBRATION_TIMEOUT_S):
            await backend.execute(request, timeline)
    except TimeoutError:
        return None
    if timeline.error is not None or timeline.input_tokens is None:
        return None
    return (
        timeline.input_tokens
        + (timeline.cache_read_tokens or 0)
        + (timeline.cache_write_tokens or 0)
    )


def forget_calibrations() -> None:
    """Drop what was measured (tests)."""
    _measured.clear()


async def prepare_synthetic(
    texts: SyntheticTexts,
    backend: Backend,
    models: list[str],
    where: tuple[str, str],
    *,
    calibrate: bool,
) -> None:
    """Count each model's tokens its own way, then make every prompt text before the run
    (in a thread: a thousand long prompts take a second or so)."""
    texts.use_counters(await token_counters(backend, models, where, calibrate=calibrate))
    await asyncio.to_thread(texts.prepare, models)
