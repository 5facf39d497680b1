"""The signed request path (loadgen/backends/signed_request.py) against botocore's own.

botocore's prepared request is captured with a `before-send` handler on a real client (which
then answers in its place, so nothing leaves the machine), ours is built for the same
arguments, and the two must agree on method, URL, JSON body, the headers SigV4 signs and the
canonical request, modulo the user agent and the amz-sdk-* retry ids.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aioboto3
import botocore.auth
import botocore.exceptions
import pytest
from aiobotocore.config import AioConfig
from aiohttp import web
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.credentials import ReadOnlyCredentials

from loadgen.backends.bedrock import BedrockBackend
from loadgen.backends.bedrock_client import _TracedHTTPSession, classify, converse_arguments
from loadgen.backends.signed_request import (
    JSON_CONTENT,
    SignedRequests,
    client_internals,
    converse_body,
)
from loadgen.config.scenario import TargetSpec, TimeoutSpec
from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.engine.backend import Timeline
from loadgen.engine.request import Prompt, Request

KEY_ID, SECRET, TOKEN = "AKIDLOADGENTEST", "loadgen-test-secret", "loadgen-session-token"
ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-x-v1:0"
MODELS = [ARN, "anthropic.claude-3-haiku-20240307-v1:0", "amazon.nova-lite-v1:0"]


class _Captured(Exception):
    """Raised by the before-send handler: the request is captured, nothing is sent."""


async def _client(token: str | None, region: str = "us-west-2") -> AsyncIterator[Any]:
    session = aioboto3.Session(
        aws_access_key_id=KEY_ID,
        aws_secret_access_key=SECRET,
        aws_session_token=token,
        region_name=region,
    )
    config = AioConfig(
        retries={"total_max_attempts": 1, "mode": "standard"},
        user_agent_extra="loadgen",
        http_session_cls=_TracedHTTPSession,
    )
    async with session.client("bedrock-runtime", config=config) as client:
        yield client


async def _botocore_request(client: Any, method: str, **arguments: Any) -> AWSPreparedRequest:
    captured: list[AWSPreparedRequest] = []

    def capture(request: AWSPreparedRequest, **_: Any) -> None:
        captured.append(request)
        raise _Captured

    client.meta.events.register("before-send.bedrock-runtime.*", capture)
    try:
        with pytest.raises(_Captured):
            await getattr(client, method)(**arguments)
    finally:
        client.meta.events.unregister("before-send.bedrock-runtime.*", capture)
    return captured[0]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


# Content-Length is added after signing (by prepare()), from the body compared on its own.
_UNCOMPARED = {
    "user-agent",
    "amz-sdk-invocation-id",
    "amz-sdk-request",
    "authorization",
    "content-length",
}


def _as_signable(prepared: AWSPreparedRequest, date: str) -> AWSRequest:
    """A sent request as SigV4 sees it, at a given X-Amz-Date (the two were signed a second
    or so apart), without the headers the comparison leaves out."""
    headers = {k: _text(v) for k, v in prepared.headers.items() if k.lower() not in _UNCOMPARED}
    headers["X-Amz-Date"] = date
    request = AWSRequest(method=prepared.method, url=prepared.url, data=prepared.body)
    for name, value in headers.items():
        request.headers[name] = value
    return request


def _signed_header_names(prepared: AWSPreparedRequest) -> str:
    authorization = _text(prepared.headers["Authorization"])
    return authorization.split("SignedHeaders=")[1].split(",")[0]


def _request(model: str) -> Request:
    return Request(
        3, model, Prompt("r", "be brief", "héllo: 'quotes' & \"more\""), 64, 0.25, top_p=0.9
    )


async def _compare(ours: AWSPreparedRequest, theirs: AWSPreparedRequest, token: str | None) -> None:
    assert ours.method == theirs.method == "POST"
    assert ours.url == theirs.url
    assert ours.body == theirs.body
    assert ours.headers["Content-Length"] == theirs.headers["Content-Length"]
    assert ours.stream_output == theirs.stream_output
    assert json.loads(ours.body) == json.loads(theirs.body)
    assert _signed_header_names(ours) == _signed_header_names(theirs)
    date = _text(theirs.headers["X-Amz-Date"])
    signer = botocore.auth.SigV4Auth(
        ReadOnlyCredentials(KEY_ID, SECRET, token), "bedrock", "us-west-2"
    )
    mine, botocores = _as_signable(ours, date), _as_signable(theirs, date)
    assert signer.canonical_request(mine) == signer.canonical_request(botocores)
    assert signer.headers_to_sign(mine).items() == signer.headers_to_sign(botocores).items()
    # And our signature is a valid one: recomputed over our canonical request, it matches.
    our_date = _text(ours.headers["X-Amz-Date"])
    resigned = _as_signable(ours, our_date)
    resigned.context["timestamp"] = our_date
    to_sign = signer.string_to_sign(resigned, signer.canonical_request(resigned))
    signature = signer.signature(to_sign, resigned)
    assert _text(ours.headers["Authorization"]).endswith(f"Signature={signature}")
    if token is None:
        assert "X-Amz-Security-Token" not in ours.headers
    else:
        assert _text(ours.headers["X-Amz-Security-Token"]) == token


@pytest.mark.parametrize("token", [None, TOKEN])
@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize(
    ("operation", "method"), [("ConverseStream", "converse_stream"), ("Converse", "converse")]
)
async def test_converse_request_equals_botocores(
    operation: str, method: str, model: str, token: str | None, aws_env: dict[str, str]
) -> None:
    async for client in _client(token):
        arguments = converse_arguments(_request(model))
        theirs = await _botocore_request(client, method, **arguments)
        built = await SignedRequests(client).build(
            operation,
            model,
            converse_body(arguments),
            {"Content-Type": JSON_CONTENT},
        )
        await _compare(built, theirs, token)
        assert "%3A" in theirs.url if model == ARN else True  # the ARN's ':' was encoded


@pytest.mark.parametrize("model", [ARN, "anthropic.claude-3-haiku-20240307-v1:0"])
@pytest.mark.parametrize(
    ("operation", "method", "accept_header"),
    [
        (
            "InvokeModelWithResponseStream",
            "invoke_model_with_response_stream",
            "X-Amzn-Bedrock-Accept",
        ),
        ("InvokeModel", "invoke_model", "Accept"),
    ],
)
async def test_invoke_request_equals_botocores(
    operation: str, method: str, accept_header: str, model: str, aws_env: dict[str, str]
) -> None:
    async for client in _client(TOKEN):
        body = json.dumps({"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5}).encode()
        theirs = await _botocore_request(
            client,
            method,
            modelId=model,
            body=body,
            contentType="application/json",
            accept="application/json",
        )
        built = await SignedRequests(client).build(
            operation,
            model,
            body,
            {"Content-Type": "application/json", accept_header: "application/json"},
        )
        await _compare(built, theirs, TOKEN)


async def test_bedrock_api_key_is_sent_as_botocore_sends_it(
    aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-for-test")
    async for client in _client(None):
        arguments = converse_arguments(_request(ARN))
        theirs = await _botocore_request(client, "converse_stream", **arguments)
        built = await SignedRequests(client).build(
            "ConverseStream", ARN, converse_body(arguments), {"Content-Type": JSON_CONTENT}
        )
        ours = built
        assert ours.url == theirs.url and ours.body == theirs.body
        assert _text(ours.headers["Authorization"]) == _text(theirs.headers["Authorization"])
        assert _text(ours.headers["Authorization"]) == "Bearer bedrock-api-key-for-test"


async def test_the_private_attributes_it_reads_are_still_there(aws_env: dict[str, str]) -> None:
    """Fails first if an aiobotocore release moves the client's session or credentials."""
    async for client in _client(TOKEN):
        http_session, credentials = client_internals(client)
        assert isinstance(http_session, _TracedHTTPSession)
        frozen = await credentials.get_frozen_credentials()
        assert (frozen.access_key, frozen.secret_key, frozen.token) == (KEY_ID, SECRET, TOKEN)


@pytest.fixture(scope="module")
def emulator() -> Any:
    config = EmulatorConfig.model_validate(
        {"seed": 1, "profiles": {"fast-model": {"ttft_ms": 5, "itl_ms": 1, "output_tokens": 3}}}
    )
    with EmulatorProcess(config) as process:
        yield process


async def test_a_whole_converse_answer_parses_as_the_sdk_returns_it(
    emulator: EmulatorProcess, aws_env: dict[str, str]
) -> None:
    session = aioboto3.Session(region_name="us-east-1")
    async with session.client("bedrock-runtime", endpoint_url=emulator.url) as client:
        arguments = converse_arguments(_request("fast-model"))
        sdk = await client.converse(**arguments)
        signed = SignedRequests(client)
        headers, body = await signed.send_whole(
            "Converse", "fast-model", converse_body(arguments), {"Content-Type": JSON_CONTENT}
        )
        ours = signed.parse("Converse", headers, body)
    assert ours.keys() == sdk.keys() >= {"output", "stopReason", "usage", "metrics"}
    assert ours["usage"] == sdk["usage"] and ours["usage"]["outputTokens"] == 3
    assert ours["stopReason"] == sdk["stopReason"]
    assert ours["output"]["message"]["role"] == sdk["output"]["message"]["role"] == "assistant"
    assert ours["ResponseMetadata"]["HTTPStatusCode"] == 200


@pytest.mark.parametrize("request_path", ["sdk", "signed"])
async def test_absent_credentials_are_a_client_error_on_both_paths(
    request_path: str, emulator: EmulatorProcess, no_aws_env: dict[str, str]
) -> None:
    backend = BedrockBackend(
        TargetSpec(endpoint_url=emulator.url, region="us-east-1", request_path=request_path),
        TimeoutSpec(),
        pool_size=2,
    )
    await backend.start()
    try:
        timeline = Timeline()
        await backend.execute(_request("fast-model"), timeline)
    finally:
        await backend.close()
    assert timeline.error is not None
    assert (timeline.error.value, timeline.error_code) == ("client", "NoCredentialsError")
    assert classify(botocore.exceptions.NoCredentialsError())[1] == "NoCredentialsError"


class ErrorServer:
    """Answers every request with the status, headers and body the example asks for."""

    def __init__(self) -> None:
        self.answer: tuple[int, dict[str, str], bytes] = (200, {}, b"")
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        status, headers, body = self.answer
        return web.Response(status=status, headers=headers, body=body)

    async def __aenter__(self) -> ErrorServer:
        app = web.Application()
        app.router.add_post("/model/{model}/{operation}", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


ERROR_ANSWERS = [
    (429, {"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/"}, b"{}"),
    (400, {}, b'{"__type": "com.amazon.bedrock#ValidationException", "message": "bad"}'),
    (403, {}, b'{"code": "AccessDeniedException", "Message": "no"}'),
    (404, {"x-amzn-ErrorType": "ResourceNotFoundException"}, b'{"message": "none"}'),
    (424, {"x-amzn-ErrorType": "ModelErrorException"}, b'{"message": "model failed"}'),
    (500, {"x-amzn-ErrorType": "InternalServerException"}, b'{"message": "oops"}'),
    (503, {}, b"<html><body>Service Unavailable</body></html>"),
    (502, {}, b""),
    (400, {}, b"not json at all"),
    (418, {"x-amzn-RequestId": "req-1"}, b'{"__type": "MadeUpException"}'),
    (301, {}, b""),
]


@pytest.mark.parametrize("answer", ERROR_ANSWERS, ids=lambda a: f"{a[0]}")
async def test_error_answers_raise_what_botocore_raises(
    answer: tuple[int, dict[str, str], bytes], aws_env: dict[str, str]
) -> None:
    async with ErrorServer() as server:
        server.answer = answer
        session = aioboto3.Session(region_name="us-east-1")
        config = AioConfig(
            retries={"total_max_attempts": 1, "mode": "standard"},
            http_session_cls=_TracedHTTPSession,
        )
        async with session.client(
            "bedrock-runtime", endpoint_url=server.url, config=config
        ) as client:
            arguments = converse_arguments(_request(ARN))
            with pytest.raises(botocore.exceptions.ClientError) as sdk:
                await client.converse_stream(**arguments)
            with pytest.raises(botocore.exceptions.ClientError) as signed:
                await SignedRequests(client).send(
                    "ConverseStream", ARN, converse_body(arguments), {"Content-Type": JSON_CONTENT}
                )
    assert type(signed.value) is type(sdk.value)
    assert signed.value.response["Error"] == sdk.value.response["Error"]
    status = sdk.value.response["ResponseMetadata"]["HTTPStatusCode"]
    assert status == answer[0]
    assert signed.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert classify(signed.value) == classify(sdk.value)


@pytest.mark.parametrize("setting", ["AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT"])
async def test_fips_and_dualstack_endpoints_are_botocores(
    setting: str, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(setting, "true")
    async for client in _client(None, region="us-east-1"):
        arguments = converse_arguments(_request(ARN))
        theirs = await _botocore_request(client, "converse_stream", **arguments)
        built = await SignedRequests(client).build(
            "ConverseStream", ARN, converse_body(arguments), {"Content-Type": JSON_CONTENT}
        )
        assert built.url == theirs.url
        assert ("fips" if "FIPS" in setting else ".api.aws") in built.url
