"""The emulator's wire as real Bedrock's, through the real aioboto3 client: every new fault
arrives as botocore's modelled error on both streaming APIs, validation errors as 400
ValidationException, every stop reason ends the stream properly, and the "p" padding rides on
every event without reaching the client's events."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import aioboto3
import aiohttp
import botocore.eventstream
import botocore.exceptions
import pytest
from aiobotocore.config import AioConfig

from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.emulator.eventstream import PADDING_ALPHABET
from loadgen.emulator.validation import ALTERNATE_ROLES, max_tokens_message

QUICK = {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 12, "tokens_per_delta": 1}
MIDSTREAM = {  # fault: (ConverseStream's member, InvokeModelWithResponseStream's member)
    "server_error_midstream": ("internalServerException", "internalServerException"),
    "unavailable_midstream": ("serviceUnavailableException", "serviceUnavailableException"),
    "validation_midstream": ("validationException", "validationException"),
    "model_timeout_midstream": ("modelStreamErrorException", "modelTimeoutException"),
    "model_stream_error": ("modelStreamErrorException", "modelStreamErrorException"),
}
HTTP = {
    "model_timeout": (408, "ModelTimeoutException"),
    "model_not_ready": (429, "ModelNotReadyException"),
    "quota_exceeded": (400, "ServiceQuotaExceededException"),
}
STOPS = ("stop_sequence", "content_filtered", "model_context_window_exceeded")
ANTHROPIC_STOP = {
    "stop_sequence": "stop_sequence",
    "content_filtered": "refusal",
    "model_context_window_exceeded": "model_context_window_exceeded",
}
USER = [{"role": "user", "content": [{"text": "Tell me about the sea."}]}]


def _config() -> EmulatorConfig:
    profiles: dict[str, Any] = {
        f"amazon.{kind}-v1:0": {**QUICK, "faults": {kind: 1.0}} for kind in [*MIDSTREAM, *HTTP]
    }
    for kind in STOPS:  # the same for Converse (amazon.) and Anthropic bodies (anthropic.)
        for family in ("amazon", "anthropic"):
            profiles[f"{family}.{kind}-v1:0"] = {**QUICK, "stops": {kind: 1.0}}
    profiles["amazon.plain-v1:0"] = {**QUICK, "max_output_tokens": 100}
    return EmulatorConfig.model_validate(
        {"seed": 3, "quotas": {"enabled": False}, "profiles": profiles}
    )


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorProcess]:
    with EmulatorProcess(_config()) as process:
        yield process


def _client(url: str) -> Any:
    return aioboto3.Session().client(
        "bedrock-runtime",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=AioConfig(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


async def _converse_events(url: str, model: str, **extra: Any) -> list[dict[str, Any]]:
    async with _client(url) as client:
        response = await client.converse_stream(modelId=model, messages=USER, **extra)
        return [event async for event in response["stream"]]


async def _invoke_events(url: str, model: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    async with _client(url) as client:
        response = await client.invoke_model_with_response_stream(
            modelId=model, body=json.dumps(body)
        )
        return [json.loads(event["chunk"]["bytes"]) async for event in response["body"]]


def _nova_body() -> dict[str, Any]:
    return {"messages": USER, "inferenceConfig": {"maxTokens": 50}}


@pytest.mark.parametrize("fault", list(MIDSTREAM))
async def test_mid_stream_exceptions_arrive_as_botocores_modelled_errors(
    emulator: EmulatorProcess, aws_env: dict[str, str], fault: str
) -> None:
    converse_code, invoke_code = MIDSTREAM[fault]
    model = f"amazon.{fault}-v1:0"
    with pytest.raises(botocore.exceptions.EventStreamError) as converse:
        await _converse_events(emulator.url, model)
    assert converse.value.response["Error"]["Code"] == converse_code
    with pytest.raises(botocore.exceptions.EventStreamError) as invoke:
        await _invoke_events(emulator.url, model, _nova_body())
    assert invoke.value.response["Error"]["Code"] == invoke_code
    assert emulator.stats()["faults"][fault] >= 2


@pytest.mark.parametrize("fault", list(HTTP))
async def test_http_faults_arrive_with_their_status(
    emulator: EmulatorProcess, aws_env: dict[str, str], fault: str
) -> None:
    status, code = HTTP[fault]
    model = f"amazon.{fault}-v1:0"
    for call in (
        lambda: _converse_events(emulator.url, model),
        lambda: _invoke_events(emulator.url, model, _nova_body()),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            await call()
        assert raised.value.response["Error"]["Code"] == code
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert emulator.stats()["faults"][fault] >= 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"inferenceConfig": {"maxTokens": 101}}, max_tokens_message(100)),
        ({"messages": [*USER, *USER]}, ALTERNATE_ROLES),
        ({"inferenceConfig": {"temperature": 1.0, "topP": 1.0, "maxTokens": 100}}, None),
    ],
)
async def test_validation_errors_are_400_validation_exceptions(
    emulator: EmulatorProcess, aws_env: dict[str, str], extra: dict[str, Any], message: str | None
) -> None:
    kwargs = {"messages": USER, **extra}
    async with _client(emulator.url) as client:
        if message is None:
            response = await client.converse(modelId="amazon.plain-v1:0", **kwargs)
            assert response["stopReason"] == "end_turn"
            return
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            await client.converse_stream(modelId="amazon.plain-v1:0", **kwargs)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert raised.value.response["Error"]["Message"] == message
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize("reason", STOPS)
async def test_every_stop_reason_ends_the_stream_properly(
    emulator: EmulatorProcess, aws_env: dict[str, str], reason: str
) -> None:
    model = f"amazon.{reason}-v1:0"
    events = await _converse_events(emulator.url, model, inferenceConfig={"stopSequences": ["END"]})
    kinds = [next(iter(event)) for event in events]
    assert kinds[0] == "messageStart" and kinds[-3:] == [
        "contentBlockStop",
        "messageStop",
        "metadata",
    ]
    assert events[-2]["messageStop"]["stopReason"] == reason
    text = "".join(
        e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e
    )
    assert events[-1]["metadata"]["usage"]["outputTokens"] == len(text.split()) <= 12
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 50,
        "messages": USER,
        "stop_sequences": ["END"],
    }
    native = await _invoke_events(emulator.url, model.replace("amazon.", "anthropic."), body)
    delta = next(event for event in native if event["type"] == "message_delta")
    assert delta["delta"]["stop_reason"] == ANTHROPIC_STOP[reason]


async def test_padding_rides_on_every_event_and_never_reaches_the_client(
    emulator: EmulatorProcess, aws_env: dict[str, str]
) -> None:
    events = await _converse_events(emulator.url, "amazon.plain-v1:0")
    assert all("p" not in payload for event in events for payload in event.values())
    assert events[-2]["messageStop"]["stopReason"] == "end_turn"
    paddings: list[str] = []
    async with aiohttp.ClientSession() as session:
        for path, body in (
            ("converse-stream", {"messages": USER}),
            ("invoke-with-response-stream", _nova_body()),
        ):
            url = f"{emulator.url}/model/amazon.plain-v1:0/{path}"
            async with session.post(url, json=body) as response:
                buffer = botocore.eventstream.EventStreamBuffer()
                buffer.add_data(await response.read())
            for message in buffer:
                payload = json.loads(message.payload)
                paddings.append(payload["p"])
                if "bytes" in payload:  # the native event inside is not padded
                    assert "p" not in json.loads(base64.b64decode(payload["bytes"]))
    assert all(p == PADDING_ALPHABET[: len(p)] and p for p in paddings)
    assert len(set(paddings)) > 5
