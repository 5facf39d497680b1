"""Every API the emulator serves, read by the real clients: synchronous boto3 for Converse,
ConverseStream, InvokeModel and InvokeModelWithResponseStream (Anthropic and Nova bodies),
the AWS CLI for Converse, and a plain aiohttp client for OpenAI's chat completions. Each
response must parse without error and carry the token counts the emulator planned."""

from __future__ import annotations

import asyncio
import json
import math
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.emulator.text import filler_deltas
from tests.helpers import REPO

FAST = {"ttft_ms": 20, "itl_ms": 2, "output_tokens": 7, "tokens_per_delta": 2}
SYSTEM = "You are terse."
USER = "Summarise this email, please."
INPUT_TOKENS = math.ceil(len(SYSTEM + USER) / 4)
TEXT = "".join(filler_deltas(7, 2))
MIDSTREAM = ("throttle_midstream", "model_stream_error")
HTTP = {
    "throttle": (429, "ThrottlingException"),
    "server_error": (500, "InternalServerException"),
    "unavailable": (503, "ServiceUnavailableException"),
    "model_error": (424, "ModelErrorException"),
}


def _config() -> EmulatorConfig:
    profiles: dict[str, Any] = {
        "anthropic.fast-v1:0": FAST,
        "amazon.nova-fast-v1:0": {
            **FAST,
            "latency_optimized": {"ttft_ms": 5, "description": "quicker"},
        },
    }
    profiles["anthropic.slow_trickle-v1:0"] = {
        **FAST,
        "itl_ms": 20,
        "faults": {"slow_trickle": 1.0, "trickle_factor": 4},
    }
    for kind in (*HTTP, *MIDSTREAM, "cut_stream", "drop_connection", "bad_checksum"):
        for family in ("anthropic", "amazon.nova"):
            profiles[f"{family}.{kind}-v1:0"] = {
                **FAST,
                "output_tokens": 10,
                "faults": {kind: 1.0},
            }
    return EmulatorConfig.model_validate({"seed": 2, "profiles": profiles})


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with EmulatorProcess(_config()) as process:
        yield process.url


@pytest.fixture(scope="module")
def client(url: str) -> Iterator[Any]:
    client = boto3.client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    yield client
    client.close()


def _messages() -> dict[str, Any]:
    return {
        "system": [{"text": SYSTEM}],
        "messages": [{"role": "user", "content": [{"text": USER}]}],
        "inferenceConfig": {"maxTokens": 100},
    }


def _anthropic_body(max_tokens: int = 100) -> str:
    return json.dumps(
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": max_tokens,
            "system": SYSTEM,
            "messages": [{"role": "user", "content": [{"type": "text", "text": USER}]}],
        }
    )


def _nova_body(max_tokens: int = 100) -> str:
    return json.dumps(
        {
            "schemaVersion": "messages-v1",
            "system": [{"text": SYSTEM}],
            "messages": [{"role": "user", "content": [{"text": USER}]}],
            "inferenceConfig": {"maxTokens": max_tokens},
        }
    )


# --- Converse ------------------------------------------------------------------------------


def test_converse(client: Any) -> None:
    response = client.converse(modelId="us.anthropic.fast-v1:0", **_messages())
    assert response["output"]["message"] == {"role": "assistant", "content": [{"text": TEXT}]}
    assert response["stopReason"] == "end_turn"
    assert response["usage"] == {
        "inputTokens": INPUT_TOKENS,
        "outputTokens": 7,
        "totalTokens": INPUT_TOKENS + 7,
    }
    assert 20 + 3 * 2 <= response["metrics"]["latencyMs"] < 500
    assert "performanceConfig" not in response


def test_converse_stream_latency_optimized(client: Any) -> None:
    response = client.converse_stream(
        modelId="amazon.nova-fast-v1:0",
        performanceConfig={"latency": "optimized"},
        **_messages(),
    )
    events = list(response["stream"])
    metadata = events[-1]["metadata"]
    assert metadata["usage"]["outputTokens"] == 7
    assert metadata["performanceConfig"] == {"latency": "optimized"}
    texts = [e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e]
    assert "".join(texts) == TEXT


@pytest.mark.parametrize("kind", list(HTTP))
def test_converse_http_faults(client: Any, kind: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.converse(modelId=f"anthropic.{kind}-v1:0", **_messages())
    status, code = HTTP[kind]
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("throttle_midstream", 429, "ThrottlingException"),
        ("model_stream_error", 424, "ModelErrorException"),
    ],
)
def test_converse_midstream_faults_are_http_errors(
    client: Any, kind: str, status: int, code: str
) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.converse(modelId=f"anthropic.{kind}-v1:0", **_messages())
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_converse_cut_dropped_and_garbled_bodies(client: Any) -> None:
    for kind in ("cut_stream", "drop_connection"):
        with pytest.raises(botocore.exceptions.ConnectionClosedError):
            client.converse(modelId=f"anthropic.{kind}-v1:0", **_messages())
    # A body that is not JSON: botocore's parser gives up quietly, and nothing is in it.
    response = client.converse(modelId="anthropic.bad_checksum-v1:0", **_messages())
    assert "output" not in response and "usage" not in response


def test_converse_stream_model_error_and_slow_trickle(client: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.converse_stream(modelId="anthropic.model_error-v1:0", **_messages())
    assert caught.value.response["Error"]["Code"] == "ModelErrorException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 424
    # 4 deltas, 3 gaps of 20 ms x 4: at least 20 + 240 ms, every delta still there.
    response = client.converse_stream(modelId="anthropic.slow_trickle-v1:0", **_messages())
    events = list(response["stream"])
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 7
    assert events[-1]["metadata"]["metrics"]["latencyMs"] >= 20 + 3 * 80


# --- InvokeModel ---------------------------------------------------------------------------


def test_invoke_anthropic_body(client: Any) -> None:
    response = client.invoke_model(modelId="us.anthropic.fast-v1:0", body=_anthropic_body())
    body = json.loads(response["body"].read())
    assert body["type"] == "message" and body["role"] == "assistant"
    assert body["content"] == [{"type": "text", "text": TEXT}]
    assert body["stop_reason"] == "end_turn"
    assert body["usage"] == {"input_tokens": INPUT_TOKENS, "output_tokens": 7}
    headers = response["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-bedrock-output-token-count"] == "7"
    assert int(headers["x-amzn-bedrock-invocation-latency"]) >= 26


def test_invoke_nova_body_with_max_tokens(client: Any) -> None:
    response = client.invoke_model(modelId="amazon.nova-fast-v1:0", body=_nova_body(3))
    body = json.loads(response["body"].read())
    assert body["output"]["message"]["content"] == [{"text": "".join(filler_deltas(3, 2))}]
    assert body["stopReason"] == "max_tokens"
    assert body["usage"] == {
        "inputTokens": INPUT_TOKENS,
        "outputTokens": 3,
        "totalTokens": INPUT_TOKENS + 3,
    }


def test_invoke_latency_optimized_header(client: Any) -> None:
    response = client.invoke_model(
        modelId="amazon.nova-fast-v1:0", body=_nova_body(), performanceConfigLatency="optimized"
    )
    assert response["performanceConfigLatency"] == "optimized"
    json.loads(response["body"].read())


def test_invoke_missing_max_tokens_is_a_validation_error(client: Any) -> None:
    body = json.loads(_anthropic_body())
    del body["max_tokens"]
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.invoke_model(modelId="anthropic.fast-v1:0", body=json.dumps(body))
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert "max_tokens" in caught.value.response["Error"]["Message"]


def _chunks(client: Any, model: str, body: str) -> list[dict[str, Any]]:
    response = client.invoke_model_with_response_stream(modelId=model, body=body)
    assert response["contentType"] == "application/json"
    stream = response["body"]
    try:
        return [json.loads(event["chunk"]["bytes"]) for event in stream]
    finally:
        stream.close()


def test_invoke_stream_anthropic(client: Any) -> None:
    events = _chunks(client, "anthropic.fast-v1:0", _anthropic_body())
    types = [event["type"] for event in events]
    assert types == [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * 4,
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[0]["message"]["usage"]["input_tokens"] == INPUT_TOKENS
    deltas = [e["delta"] for e in events if e["type"] == "content_block_delta"]
    assert all(delta["type"] == "text_delta" for delta in deltas)
    assert "".join(delta["text"] for delta in deltas) == TEXT
    assert events[-2]["delta"]["stop_reason"] == "end_turn"
    assert events[-2]["usage"] == {"output_tokens": 7}
    metrics = events[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["inputTokenCount"] == INPUT_TOKENS and metrics["outputTokenCount"] == 7
    assert 20 <= metrics["firstByteLatency"] <= metrics["invocationLatency"]
    assert all("amazon-bedrock-invocationMetrics" not in event for event in events[:-1])


def test_invoke_stream_nova(client: Any) -> None:
    events = _chunks(client, "us.amazon.nova-fast-v1:0", _nova_body())
    names = [
        next(key for key in event if key != "amazon-bedrock-invocationMetrics") for event in events
    ]
    assert names == [
        "messageStart",
        *["contentBlockDelta"] * 4,
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    texts = [e["contentBlockDelta"]["delta"]["text"] for e in events[1:5]]
    assert "".join(texts) == TEXT
    assert events[-1]["metadata"]["usage"] == {"inputTokens": INPUT_TOKENS, "outputTokens": 7}
    metrics = events[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["outputTokenCount"] == 7 and metrics["inputTokenCount"] == INPUT_TOKENS


@pytest.mark.parametrize("family", ["anthropic", "amazon.nova"])
@pytest.mark.parametrize(
    ("kind", "code"),
    [
        ("throttle_midstream", "throttlingException"),
        ("model_stream_error", "modelStreamErrorException"),
    ],
)
def test_invoke_stream_exceptions(client: Any, family: str, kind: str, code: str) -> None:
    body = _anthropic_body() if family == "anthropic" else _nova_body()
    with pytest.raises(botocore.exceptions.EventStreamError) as caught:
        _chunks(client, f"{family}.{kind}-v1:0", body)
    assert caught.value.response["Error"]["Code"] == code


@pytest.mark.parametrize("kind", list(HTTP))
def test_invoke_http_faults(client: Any, kind: str) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        client.invoke_model(modelId=f"amazon.nova.{kind}-v1:0", body=_nova_body())
    status, code = HTTP[kind]
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


# --- the AWS CLI -----------------------------------------------------------------------------


def _aws_cli() -> str | None:
    local = REPO / ".venv-awscli" / "bin" / "aws"
    return str(local) if local.exists() else shutil.which("aws")


def test_aws_cli_converse(url: str, tmp_path: Path) -> None:
    aws = _aws_cli()
    if aws is None:
        pytest.skip("no AWS CLI: `make install` puts one in .venv-awscli")
    messages = tmp_path / "messages.json"
    messages.write_text(json.dumps([{"role": "user", "content": [{"text": USER}]}]))
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    env.pop("AWS_PROFILE", None)
    completed = subprocess.run(
        [
            aws,
            "bedrock-runtime",
            "converse",
            "--endpoint-url",
            url,
            "--model-id",
            "us.anthropic.fast-v1:0",
            "--messages",
            f"file://{messages}",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    response = json.loads(completed.stdout)
    assert response["output"]["message"]["content"][0]["text"] == TEXT
    assert response["usage"]["outputTokens"] == 7


# --- OpenAI chat completions ----------------------------------------------------------------


def _chat(model: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}],
        "max_tokens": 100,
        **extra,
    }


async def _sse(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> list[Any]:
    """The data of each event: parsed JSON, or the raw text ([DONE])."""
    events: list[Any] = []
    async with session.post(f"{url}/v1/chat/completions", json=body) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        async for raw in response.content:
            line = raw.decode().strip()
            if line.startswith("data: "):
                data = line.removeprefix("data: ")
                events.append(data if data == "[DONE]" else json.loads(data))
    return events


async def test_openai_stream_with_usage(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        body = _chat("anthropic.fast-v1:0", stream=True, stream_options={"include_usage": True})
        events = await _sse(session, url, body)
        plain = await _sse(session, url, _chat("anthropic.fast-v1:0", stream=True))
    assert events[-1] == "[DONE]"
    usage_chunk = events[-2]
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"] == {
        "prompt_tokens": INPUT_TOKENS,
        "completion_tokens": 7,
        "total_tokens": INPUT_TOKENS + 7,
    }
    chunks = events[:-2]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == TEXT
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(chunk["usage"] is None for chunk in chunks)
    # Without include_usage: no usage chunk, no usage field.
    assert plain[-1] == "[DONE]" and all("usage" not in c for c in plain[:-1])
    assert plain[-2]["choices"][0]["finish_reason"] == "stop"


async def test_openai_non_streaming(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        body = _chat("amazon.nova-fast-v1:0", max_tokens=3)
        async with session.post(f"{url}/v1/chat/completions", json=body) as response:
            assert response.status == 200
            completion = await response.json()
    assert completion["object"] == "chat.completion"
    choice = completion["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": "".join(filler_deltas(3, 2))}
    assert choice["finish_reason"] == "length"
    assert completion["usage"]["completion_tokens"] == 3


async def test_openai_errors(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        endpoint = f"{url}/v1/chat/completions"
        async with session.post(endpoint, json=_chat("anthropic.throttle-v1:0")) as response:
            assert response.status == 429
            error = (await response.json())["error"]
            assert error["code"] == "rate_limit_exceeded" and error["message"]
        async with session.post(endpoint, json={"messages": []}) as response:
            assert response.status == 400
            assert "model" in (await response.json())["error"]["message"]
        body = _chat("anthropic.model_stream_error-v1:0", stream=True)
        events = await _sse(session, url, body)
    assert "[DONE]" not in events  # the error event ends the stream
    assert events[-1]["error"]["type"] == "server_error"


async def test_openai_stream_cut_dropped_and_garbled(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        cut = await _sse(session, url, _chat("anthropic.cut_stream-v1:0", stream=True))
        assert cut and "[DONE]" not in cut  # ends cleanly, but early
        with pytest.raises(aiohttp.ClientPayloadError):
            await _sse(session, url, _chat("anthropic.drop_connection-v1:0", stream=True))
        with pytest.raises(json.JSONDecodeError):
            await _sse(session, url, _chat("anthropic.bad_checksum-v1:0", stream=True))


async def test_stats_count_each_api(url: str) -> None:
    def stats() -> dict[str, Any]:
        import urllib.request

        with urllib.request.urlopen(f"{url}/_emulator/stats", timeout=5) as response:
            loaded: dict[str, Any] = json.load(response)
            return loaded

    snapshot = await asyncio.to_thread(stats)
    assert set(snapshot["apis"]) <= {
        "converse",
        "converse-stream",
        "invoke",
        "invoke-with-response-stream",
        "openai-chat",
    }
    assert snapshot["requests"] == sum(snapshot["apis"].values())


# --- the prompt each API hands to the text generator ----------------------------------------


def test_every_api_reads_the_prompt_text() -> None:
    from loadgen.emulator.apis.converse import ConverseApi
    from loadgen.emulator.apis.invoke import InvokeApi
    from loadgen.emulator.apis.openai_chat import OpenAIChatApi

    expected = f"{SYSTEM}\n{USER}"
    converse = json.dumps(_messages()).encode()
    anthropic_plain = json.loads(_anthropic_body())
    anthropic_plain["messages"][0]["content"] = USER  # a plain string is allowed too
    parsed = [
        ConverseApi(stream=True).parse(converse, "m", {}),
        ConverseApi(stream=False).parse(converse, "m", {}),
        InvokeApi(stream=False).parse(_anthropic_body().encode(), "anthropic.x", {}),
        InvokeApi(stream=True).parse(json.dumps(anthropic_plain).encode(), "us.anthropic.x", {}),
        InvokeApi(stream=False).parse(_nova_body().encode(), "amazon.nova-x", {}),
        OpenAIChatApi().parse(json.dumps(_chat("m")).encode(), None, {}),
    ]
    for request in parsed:
        assert request.prompt == expected
        assert request.input_tokens == INPUT_TOKENS
        assert request.max_tokens == 100
    assert [request.native for request in parsed[2:5]] == ["anthropic", "anthropic", "nova"]
    headers = {"X-Amzn-Bedrock-PerformanceConfig-Latency": "optimized"}
    assert InvokeApi(stream=False).parse(_nova_body().encode(), "m", headers).latency_optimized
    with pytest.raises(ValueError, match="max_tokens"):
        InvokeApi(stream=False).parse(b'{"anthropic_version": "x", "messages": []}', "m", {})
