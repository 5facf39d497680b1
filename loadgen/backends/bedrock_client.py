"""What every Bedrock backend shares: the aioboto3 client as a load test needs it, and the
classification of botocore's failures.

What the SDK hides and a load test must not:
- retries are off (a throttle is data): botocore needs total_max_attempts=1 for that;
- the connection pool is sized to the in-flight cap, and time queued for a connection is
  measured (botocore's default pool of 10 queues the rest without a word);
- `send` is taken when aiohttp has written the request on the socket, through aiohttp trace
  hooks, so the SDK's serialisation and SigV4 signing count as client prep, not as TTFT.
"""

from __future__ import annotations

import contextlib
from typing import Any

import aioboto3
import aiohttp
import botocore.eventstream
import botocore.exceptions
import botocore.parsers
from aiobotocore.config import AioConfig
from aiobotocore.httpsession import AIOHTTPSession

from loadgen.backends.classify import status_class, transport_class
from loadgen.backends.signed_request import SignedRequests
from loadgen.backends.tracing import trace_config
from loadgen.config.scenario import TargetSpec, TimeoutSpec
from loadgen.core.sample import ErrorClass
from loadgen.engine.request import Request

EMULATOR_CREDENTIALS = {
    "aws_access_key_id": "loadgen-emulator",
    "aws_secret_access_key": "loadgen-emulator",
}


class _TracedHTTPSession(AIOHTTPSession):  # type: ignore[misc]
    """aiobotocore's HTTP session with aiohttp trace hooks attached.

    Mirrors AIOHTTPSession._get_session (aiobotocore 2.x), adding only `trace_configs`;
    the end-to-end accuracy test fails (client_prep missing) if a new aiobotocore stops
    calling it.
    """

    async def _get_session(self, proxy_url: str | None) -> aiohttp.ClientSession:
        session: aiohttp.ClientSession | None = self._sessions.get(proxy_url)
        if session is None:
            session = await self._exit_stack.enter_async_context(
                aiohttp.ClientSession(
                    connector=self._create_connector(proxy_url),
                    timeout=self._timeout,
                    skip_auto_headers={"CONTENT-TYPE"},
                    auto_decompress=False,
                    trace_configs=[trace_config()],
                )
            )
            self._sessions[proxy_url] = session
        return session


class BedrockClient:
    """Holds one bedrock-runtime client for the run; subclasses add `execute`."""

    def __init__(
        self,
        target: TargetSpec,
        timeouts: TimeoutSpec,
        *,
        pool_size: int,
        static_credentials: dict[str, str] | None = None,
    ) -> None:
        self._target = target
        self._timeouts = timeouts
        self._pool_size = pool_size
        self._static_credentials = static_credentials
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None
        # The lean request path (target.request_path: signed), for the streaming APIs.
        self._signed: SignedRequests | None = None

    def session(self) -> aioboto3.Session:
        return aioboto3.Session(
            profile_name=self._target.profile,
            region_name=self._target.region,
            **(self._static_credentials or {}),
        )

    async def start(self) -> None:
        config = AioConfig(
            retries={"total_max_attempts": 1, "mode": "standard"},
            max_pool_connections=self._pool_size,
            connect_timeout=self._timeouts.connect,
            # The socket read timeout backs up the runner's own deadlines; it must not fire first.
            read_timeout=self._timeouts.total + 5,
            http_session_cls=_TracedHTTPSession,
            user_agent_extra="loadgen",
        )
        self._client = await self._stack.enter_async_context(
            self.session().client(
                "bedrock-runtime", endpoint_url=self._target.endpoint_url, config=config
            )
        )
        if self._target.request_path == "signed":
            self._signed = SignedRequests(self._client)

    async def close(self) -> None:
        await self._stack.aclose()


def converse_arguments(request: Request) -> dict[str, Any]:
    """Converse and ConverseStream take the same request."""
    inference: dict[str, Any] = {"maxTokens": request.max_tokens}
    if request.temperature is not None:
        inference["temperature"] = request.temperature
    if request.top_p is not None:
        inference["topP"] = request.top_p
    arguments: dict[str, Any] = {
        "modelId": request.model,
        "messages": [{"role": "user", "content": [{"text": request.prompt.user}]}],
        "inferenceConfig": inference,
    }
    if request.prompt.system:
        arguments["system"] = [{"text": request.prompt.system}]
    return arguments


# Mid-stream exception frames arrive with lowercase codes (throttlingException).
_STREAM_ERROR_CLASSES = {
    "throttlingexception": ErrorClass.THROTTLED,
    "validationexception": ErrorClass.CLIENT,
    "accessdeniedexception": ErrorClass.CLIENT,
    "modeltimeoutexception": ErrorClass.TIMEOUT,
}


def classify(exc: BaseException) -> tuple[ErrorClass, str, int | None]:
    """The error class, a short code and the HTTP status (if any) of a failed call."""
    name = type(exc).__name__
    if isinstance(exc, botocore.exceptions.EventStreamError):
        # botocore leaves the code empty for an exception type its model does not know.
        code = exc.response.get("Error", {}).get("Code") or name
        return _STREAM_ERROR_CLASSES.get(code.lower(), ErrorClass.SERVER), code, None
    if isinstance(exc, botocore.exceptions.ClientError):
        code = exc.response.get("Error", {}).get("Code") or name
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return status_class(status, code), code, status
    if isinstance(
        exc, botocore.exceptions.ReadTimeoutError | botocore.exceptions.ConnectTimeoutError
    ):
        return ErrorClass.TIMEOUT, name, None
    if isinstance(exc, botocore.eventstream.ParserError | botocore.parsers.ResponseParserError):
        return ErrorClass.PROTOCOL, name, None
    if isinstance(exc, botocore.exceptions.ConnectionError | botocore.exceptions.HTTPClientError):
        return ErrorClass.CONNECTION, name, None
    if isinstance(
        exc, botocore.exceptions.NoCredentialsError | botocore.exceptions.ParamValidationError
    ):
        return ErrorClass.CLIENT, name, None
    if (error := transport_class(exc)) is not None:
        return error, name, None
    # Not an endpoint fault we know: keep the run going, but make the code say so.
    return ErrorClass.PROTOCOL, f"Unexpected.{name}", None
