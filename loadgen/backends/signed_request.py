"""The lean request path for Bedrock's APIs (`target.request_path: signed`).

Why: profiled at 100 req/s, botocore's request pipeline (`_make_api_call`: parameter
validation, serialisation, the endpoint ruleset, event hooks, the user-agent string, SigV4)
cost about 1.5 ms of client CPU per request, ~40 % of a streamed request; the signature
itself is ~70 us of it. Here loadgen builds the HTTP request itself, as botocore's rest-json
serializer would (method, path with the modelId label percent-encoded, JSON body, headers of
the operation's model), botocore only signs it (SigV4 with the client's own, refreshable
credentials; a Bedrock API key from AWS_BEARER_TOKEN_BEDROCK as botocore prefers it), and
it goes out on the client's own HTTP session: the same traced aiohttp ClientSession, pool,
timeouts and transport-error mapping (aiobotocore's AIOHTTPSession.send) as the SDK path.

Answers >= 300 are parsed by botocore's own rest-json parser and raised as the client's own
modelled exception (a ClientError with the same Error.Code, message and HTTPStatusCode), so
`classify` puts them in the same class with the same code on both paths. The body of a
successful streamed answer is left unread for the lean event-stream decoder; a whole answer
is read as the SDK reads it (Converse's parsed by botocore's parser, InvokeModel's raw).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

import aiobotocore
import aiohttp
import botocore
import botocore.auth
import botocore.exceptions
import botocore.parsers
import botocore.utils
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.tokens import FrozenAuthToken

import loadgen

JSON_CONTENT = "application/json"


def client_internals(client: Any) -> tuple[Any, Any]:
    """The started client's HTTP session and credentials: the only private attributes the
    signed path reads (tests/unit/backends/test_signed_request.py fails if an aiobotocore
    release moves them). `_endpoint.http_session` is aiobotocore's AIOHTTPSession (ours: the
    traced one); `_get_credentials()` is botocore's accessor for the request signer's
    credentials (None when the chain found none)."""
    return client._endpoint.http_session, client._get_credentials()


class SignedRequests:
    """Builds, signs and sends Bedrock requests for one started bedrock-runtime client."""

    def __init__(self, client: Any) -> None:
        self._http_session, self._credentials = client_internals(client)
        meta = client.meta
        self._service_model = meta.service_model
        self._endpoint_url: str = meta.endpoint_url
        self._signing_name: str = self._service_model.signing_name
        self._region: str = meta.region_name
        self._exceptions = client.exceptions
        self._uris: dict[str, str] = {}
        self._streams: dict[str, bool] = {}
        self._parser = botocore.parsers.create_parser(self._service_model.protocol)
        # botocore prefers a Bedrock API key from the environment over SigV4 when the client's
        # config sets no signature version in code (ours sets none): so do we.
        token = botocore.utils.get_token_from_environment(self._signing_name)
        self._bearer = botocore.auth.BearerAuth(FrozenAuthToken(token)) if token else None
        # Built once: botocore rebuilds its user agent for every request (~7 % of its CPU).
        extra = meta.config.user_agent_extra
        self._user_agent = " ".join(
            part
            for part in (
                f"aiobotocore/{aiobotocore.__version__}",
                f"botocore/{botocore.__version__}",
                f"lang/python#{sys.version_info.major}.{sys.version_info.minor}",
                f"loadgen/{loadgen.__version__}",
                "md/request-path#signed",
                extra,
            )
            if part
        )

    def url(self, operation: str, model_id: str) -> str:
        """The operation's URL, the modelId label percent-encoded as botocore does (no safe
        characters but `-._~`: an ARN's `:` and `/` are encoded)."""
        uri = self._uris.get(operation)
        if uri is None:
            model = self._service_model.operation_model(operation)
            uri = self._uris[operation] = model.http["requestUri"]
            # As botocore: an answer with a streamed payload is not read by the HTTP session.
            self._streams[operation] = model.has_streaming_output or model.has_event_stream_output
        path = uri.replace("{modelId}", botocore.utils.percent_encode(model_id))
        return self._endpoint_url.rstrip("/") + path

    async def build(
        self,
        operation: str,
        model_id: str,
        body: bytes,
        headers: dict[str, str],
    ) -> AWSPreparedRequest:
        """The signed request, ready to send: what botocore sends, less its user-agent
        details and the amz-sdk-* retry ids (unsigned, and only for the SDK's own retries)."""
        url = self.url(operation, model_id)
        request = _BytesRequest(
            method="POST", url=url, data=body, headers={**headers, "User-Agent": self._user_agent}
        )
        if self._bearer is not None:
            self._bearer.add_auth(request)
        else:
            if self._credentials is None:
                raise botocore.exceptions.NoCredentialsError()
            frozen = await self._credentials.get_frozen_credentials()
            botocore.auth.SigV4Auth(frozen, self._signing_name, self._region).add_auth(request)
        # What AWSRequest.prepare() makes of a bytes body and no query string, without its
        # copies: botocore adds Content-Length after signing, as here.
        request.headers["Content-Length"] = str(len(body))
        return AWSPreparedRequest("POST", url, request.headers, body, self._streams[operation])

    async def send(
        self, operation: str, model_id: str, body: bytes, headers: dict[str, str]
    ) -> aiohttp.ClientResponse:
        """Send the request; the response with its body unread, or the SDK's exception."""
        http_response = await self._http_session.send(
            await self.build(operation, model_id, body, headers)
        )
        if http_response.status_code >= 300:
            await self._raise_error(operation, http_response)
        raw: aiohttp.ClientResponse = http_response.raw
        return raw

    async def send_whole(
        self, operation: str, model_id: str, body: bytes, headers: dict[str, str]
    ) -> tuple[Mapping[str, str], bytes]:
        """Send a non-streaming request: the answer's headers (lower-case names) and body,
        read whole as the SDK reads it, or the SDK's exception."""
        http_response = await self._http_session.send(
            await self.build(operation, model_id, body, headers)
        )
        if http_response.status_code >= 300:
            await self._raise_error(operation, http_response)
        content: bytes = await http_response.content
        return http_response.headers, content

    def parse(self, operation: str, headers: Mapping[str, str], body: bytes) -> dict[str, Any]:
        """A whole 2xx answer as the SDK returns it, by botocore's own parser (Converse's
        output has typed members: blobs, documents)."""
        parsed: dict[str, Any] = self._parser.parse(
            {"status_code": 200, "headers": headers, "body": body},
            self._service_model.operation_model(operation).output_shape,
        )
        return parsed

    async def _raise_error(self, operation: str, http_response: Any) -> None:
        # Errors are rare: botocore's own parser and exception classes make them identical.
        body = await http_response.content
        parsed: dict[str, Any] = self._parser.parse(
            {
                "status_code": http_response.status_code,
                "headers": http_response.headers,
                "body": body,
            },
            self._service_model.operation_model(operation).output_shape,
        )
        parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
        code = parsed.get("Error", {}).get("Code")
        raise self._exceptions.from_code(code)(parsed, operation)


class _BytesRequest(AWSRequest):  # type: ignore[misc]
    """An AWSRequest whose body is its bytes as given. AWSRequest.body runs a whole prepare()
    (header and URL copies) each time it is read, and SigV4 reads it to hash the payload: for
    a bytes body the result is the bytes themselves (~30 % of the signing CPU saved)."""

    @property
    def body(self) -> bytes:
        data: bytes = self.data
        return data


def converse_body(arguments: dict[str, Any]) -> bytes:
    """ConverseStream's JSON body: every argument but the modelId path label, serialised as
    botocore's rest-json serializer does (json.dumps with its default separators)."""
    return json.dumps({k: v for k, v in arguments.items() if k != "modelId"}).encode()
