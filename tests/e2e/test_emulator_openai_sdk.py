"""The official OpenAI SDK against the emulator's /v1/chat/completions: streaming with and
without the usage chunk, a whole completion, and errors raised as the SDK's own exceptions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pytest

from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.emulator.text import filler_deltas

PROFILE = {"ttft_ms": 10, "itl_ms": 1, "output_tokens": 9, "tokens_per_delta": 3}
MESSAGES: Any = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}]


@pytest.fixture(scope="module")
def client() -> Iterator[openai.OpenAI]:
    profiles = {
        "plain": PROFILE,
        "throttled": {**PROFILE, "faults": {"throttle": 1.0}},
        "failing": {**PROFILE, "faults": {"model_stream_error": 1.0}},
    }
    config = EmulatorConfig.model_validate({"profiles": profiles})
    with EmulatorProcess(config) as process:
        sdk = openai.OpenAI(base_url=f"{process.url}/v1", api_key="x", max_retries=0)
        yield sdk
        sdk.close()


def test_stream_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="plain", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "".join(filler_deltas(9, 3))
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 9
    assert chunks[-1].usage.prompt_tokens == 3  # "Be brief.Hi!": 12 characters


def test_whole_completion_and_length_limit(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model="plain", messages=MESSAGES, max_tokens=4)
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].message.content == "".join(filler_deltas(4, 3))
    assert completion.usage is not None and completion.usage.completion_tokens == 4


def test_errors_are_the_sdks_own(client: openai.OpenAI) -> None:
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="throttled", messages=MESSAGES)
    with pytest.raises(openai.APIError, match="stream failed"):
        list(client.chat.completions.create(model="failing", messages=MESSAGES, stream=True))
