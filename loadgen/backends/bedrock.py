"""Amazon Bedrock ConverseStream through the real aioboto3 client.

What the SDK hides and a load test must not:
- retries are off (a throttle is data): botocore needs total_max_attempts=1 for that;
- the connection pool is sized to the in-flight cap, and time queued for a connection is
  measured (botocore's default pool of 10 queues the rest without a word);
- `send` is taken when aiohttp has written the request on the socket, through aiohttp trace
  hooks, so the SDK's serialisation and SigV4 signing count as client prep, not as TTFT;
- a stream that ends without messageStop and metadata raises nothing in botocore: we check.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from typing import Any

import aioboto3
import aiohttp
import botocore.eventstream
import botocore.exceptions
import botocore.parsers
from aiobotocore.config import AioConfig
from aiobotocore.httpsession import AIOHTTPSession

from loadgen.backend import Request, Timeline
from loadgen.redact import redact_text
from loadgen.sample import ErrorClass
from loadgen.scenario import TargetSpec, TimeoutSpec

# The timeline of the request the current task is sending; aiohttp's trace hooks run inside
# that task, so a context variable routes each hook to the right request without locking.
_current: contextvars.ContextVar[Timeline | None] = contextvars.ContextVar(
    "loadgen_timeline", default=None
)

EMULATOR_CREDENTIALS = {
    "aws_access_key_id": "loadgen-emulator",
    "aws_secret_access_key": "loadgen-emulator",
}


async def _on_chunk_sent(
    session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceRequestChunkSentParams
) -> None:
    # aiohttp buffers the headers and writes them with the body, from a task of its own that
    # may run a loop iteration later: the request has left when its last body chunk is
    # written, so each chunk moves `send` forward.
    timeline = _current.get()
    if timeline is not None:
        timeline.send_ns = time.perf_counter_ns()


async def _on_queued_start(
    session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceConnectionQueuedStartParams
) -> None:
    timeline = _current.get()
    if timeline is not None:
        timeline.pool_queued_ns = _now()


async def _on_queued_end(
    session: aiohttp.ClientSession, ctx: Any, params: aiohttp.TraceConnectionQueuedEndParams
) -> None:
    timeline = _current.get()
    if timeline is not None and timeline.pool_queued_ns is not None:
        timeline.pool_wait_ns = _now() - timeline.pool_queued_ns


def _now() -> int:
    return time.perf_counter_ns()


def _trace_config() -> aiohttp.TraceConfig:
    trace = aiohttp.TraceConfig()
    trace.on_request_chunk_sent.append(_on_chunk_sent)
    trace.on_connection_queued_start.append(_on_queued_start)
    trace.on_connection_queued_end.append(_on_queued_end)
    return trace


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
                    trace_configs=[_trace_config()],
                )
            )
            self._sessions[proxy_url] = session
        return session


class BedrockBackend:
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

    async def close(self) -> None:
        await self._stack.aclose()

    async def execute(self, request: Request, timeline: Timeline) -> None:
        token = _current.set(timeline)
        stream = None
        try:
            response = await self._client.converse_stream(**_converse_arguments(request))
            stream = response["stream"]
            saw_stop = saw_metadata = False
            async for event in stream:
                if "contentBlockDelta" in event:
                    if event["contentBlockDelta"]["delta"].get("text"):
                        timeline.mark_content(event["contentBlockDelta"]["delta"]["text"])
                elif "messageStop" in event:
                    saw_stop = True
                    timeline.stop_reason = event["messageStop"].get("stopReason")
                elif "metadata" in event:
                    saw_metadata = True
                    _read_metadata(event["metadata"], timeline)
            timeline.mark_end()
            if not (saw_stop and saw_metadata):
                missing = [
                    name
                    for name, seen in (("messageStop", saw_stop), ("metadata", saw_metadata))
                    if not seen
                ]
                timeline.fail(
                    ErrorClass.PROTOCOL,
                    "IncompleteStream",
                    f"stream ended without {' and '.join(missing)}",
                )
        except Exception as exc:  # every failure is classified; none may stop the run
            error, code, status = classify(exc)
            timeline.fail(error, code, _describe(exc), status)
        finally:
            _current.reset(token)
            if stream is not None:
                stream.close()


def _converse_arguments(request: Request) -> dict[str, Any]:
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


def _read_metadata(metadata: dict[str, Any], timeline: Timeline) -> None:
    usage = metadata.get("usage") or {}
    timeline.input_tokens = usage.get("inputTokens")
    timeline.output_tokens = usage.get("outputTokens")
    timeline.cache_read_tokens = usage.get("cacheReadInputTokens")
    timeline.cache_write_tokens = usage.get("cacheWriteInputTokens")
    latency = (metadata.get("metrics") or {}).get("latencyMs")
    timeline.server_latency_ms = int(latency) if latency is not None else None


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
        return _status_class(status, code), code, status
    if isinstance(
        exc,
        botocore.exceptions.ReadTimeoutError
        | botocore.exceptions.ConnectTimeoutError
        | TimeoutError,
    ):
        return ErrorClass.TIMEOUT, name, None
    if isinstance(exc, botocore.eventstream.ParserError | botocore.parsers.ResponseParserError):
        return ErrorClass.PROTOCOL, name, None
    if isinstance(
        exc,
        aiohttp.ClientError
        | botocore.exceptions.ConnectionError
        | botocore.exceptions.HTTPClientError
        | ConnectionError,
    ):
        return ErrorClass.CONNECTION, name, None
    if isinstance(
        exc, botocore.exceptions.NoCredentialsError | botocore.exceptions.ParamValidationError
    ):
        return ErrorClass.CLIENT, name, None
    # Not an endpoint fault we know: keep the run going, but make the code say so.
    return ErrorClass.PROTOCOL, f"Unexpected.{name}", None


def _status_class(status: int | None, code: str) -> ErrorClass:
    if status == 429 or code in ("ThrottlingException", "ModelNotReadyException"):
        return ErrorClass.THROTTLED
    if status == 408 or code == "ModelTimeoutException":
        return ErrorClass.TIMEOUT
    if status is not None and 400 <= status < 500 and status != 424:
        return ErrorClass.CLIENT
    return ErrorClass.SERVER


def _describe(exc: BaseException) -> str:
    return redact_text(f"{type(exc).__name__}: {exc}")[:500]
