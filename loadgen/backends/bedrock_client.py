"""What every Bedrock backend shares: the aioboto3 client as a load test needs it, and the
classification of botocore's failures.

What the SDK hides and a load test must not:
- retries are off (a throttle is data): botocore needs total_max_attempts=1 for that;
- the connection pool is sized to the in-flight cap, and time queued for a connection is
  measured (botocore's default pool of 10 queues the rest without a word);
- `send` is taken when aiohttp has written the request on the socket, through aiohttp trace
  hooks, so the SDK's serialisation and SigV4 signing count as client prep, not as TTFT;
- the region is loadgen's (`find_region`: target.region, AWS_REGION, AWS_DEFAULT_REGION, the
  profile's), passed to the session explicitly: botocore alone reads no AWS_REGION;
- the credentials the client holds are registered for redaction when it starts
  (loadgen/core/redact.py), so no echo of them reaches a sample or a message.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any, Protocol

import aioboto3
import aiohttp
import botocore
import botocore.eventstream
import botocore.exceptions
import botocore.parsers
import botocore.session
from aiobotocore.config import AioConfig
from aiobotocore.httpsession import AIOHTTPSession

from loadgen.backends.classify import describe, status_class, transport_class

# Re-exported: where the Bedrock backends and their tests have always imported it from.
from loadgen.backends.converse_request import converse_arguments as converse_arguments
from loadgen.backends.request_options import UnsupportedOption
from loadgen.backends.signed_request import SignedRequests, client_internals
from loadgen.backends.tracing import trace_config
from loadgen.config.scenario import TargetSpec, TimeoutSpec
from loadgen.core.errors import PreflightError
from loadgen.core.redact import redact_text, register_secrets
from loadgen.core.sample import ErrorClass
from loadgen.engine.backend import Timeline

EMULATOR_CREDENTIALS = {
    "aws_access_key_id": "loadgen-emulator",
    "aws_secret_access_key": "loadgen-emulator",
}

# The environment variables that name a region, in the order loadgen reads them.
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
# A Bedrock API key: botocore sends it as a bearer token instead of signing (signed_request.py).
BEDROCK_TOKEN_VARIABLE = "AWS_BEARER_TOKEN_BEDROCK"


class RegionSettings(Protocol):
    """What the region is looked up from: a TargetSpec, or any target with these two."""

    @property
    def region(self) -> str | None: ...

    @property
    def profile(self) -> str | None: ...


def find_region(target: RegionSettings) -> tuple[str, str] | None:
    """The region Bedrock requests go to, and the setting it came from, in loadgen's order:

    1. target.region: `"scenario"` (`--region` sets this key);
    2. the environment: `"AWS_REGION"`, then `"AWS_DEFAULT_REGION"`;
    3. the AWS profile's `region` in the config file: `"profile <name>"` (`"profile default"`).

    None when none of them has one. Reads files and the environment; sends nothing.
    """
    if target.region:
        return target.region, "scenario"
    for variable in REGION_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            return value, variable
    profile, region = _profile_region(target)
    return (region, f"profile {profile}") if region else None


def _profile_region(target: RegionSettings) -> tuple[str, str | None]:
    """The AWS profile botocore would use (target.profile, AWS_PROFILE, AWS_DEFAULT_PROFILE, or
    default) and the region its config file gives it, if any."""
    session = botocore.session.Session(profile=target.profile)
    profile = session.profile or "default"
    try:
        region = session.get_scoped_config().get("region")
    except botocore.exceptions.BotoCoreError:  # a missing profile, an unreadable config file:
        return profile, None  # the credential check names those
    return profile, (str(region).strip() or None) if region else None


def resolve_region(target: RegionSettings) -> tuple[str, str]:
    """`find_region`, or a PreflightError naming every place looked at and how to set one."""
    found = find_region(target)
    if found is None:
        raise PreflightError(no_region_message(target))
    return found


def no_region_message(target: RegionSettings) -> str:
    profile, _ = _profile_region(target)
    config = os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config"
    flag = f" --profile {profile}" if profile != "default" else ""
    return (
        "no AWS region set. loadgen looked, in order, at: --region / target.region in the "
        f"scenario, the AWS_REGION and AWS_DEFAULT_REGION environment variables, and the "
        f"region of AWS profile {profile} in {config}. Set one: pass --region us-east-1, put "
        "`region: us-east-1` under target: in the scenario, export AWS_REGION=us-east-1, or "
        f"run `aws configure set region us-east-1{flag}`."
    )


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
        self._region: tuple[str, str] | None = None
        self._region_looked_up = False

    @property
    def region(self) -> tuple[str, str] | None:
        """`find_region` for this client's target (looked up once): (region, source)."""
        if not self._region_looked_up:
            self._region = find_region(self._target)
            self._region_looked_up = True
        return self._region

    def session(self) -> aioboto3.Session:
        # The region loadgen resolved, explicitly: botocore alone would read AWS_DEFAULT_REGION
        # and the profile, never AWS_REGION, and could send elsewhere than loadgen reports.
        return aioboto3.Session(
            profile_name=self._target.profile,
            region_name=self.region[0] if self.region else None,
            **(self._static_credentials or {}),
        )

    async def start(self) -> None:
        if self.region is None:  # say where loadgen looked, not botocore's NoRegionError
            raise PreflightError(no_region_message(self._target))
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
        await self._register_credentials()
        if self._target.request_path == "signed":
            self._signed = SignedRequests(self._client)

    async def _register_credentials(self) -> None:
        """Register what the client signs with (and a Bedrock API key) for redaction."""
        register_secrets(os.environ.get(BEDROCK_TOKEN_VARIABLE))
        if self._static_credentials == EMULATOR_CREDENTIALS:
            return  # the emulator's placeholder: public, and no secret
        _, credentials = client_internals(self._client)
        if credentials is None:
            return
        try:
            frozen = await credentials.get_frozen_credentials()
        except Exception:  # unloadable: every request fails, and its sample says why
            return
        register_secrets(frozen.access_key, frozen.secret_key, frozen.token)

    async def close(self) -> None:
        await self._stack.aclose()


# Mid-stream exception frames arrive with lowercase codes (throttlingException); any other
# (internalServerException, serviceUnavailableException, modelStreamErrorException) is the
# server's fault.
_STREAM_ERROR_CLASSES = {
    "throttlingexception": ErrorClass.THROTTLED,
    "validationexception": ErrorClass.CLIENT,
    "accessdeniedexception": ErrorClass.CLIENT,
    "modeltimeoutexception": ErrorClass.TIMEOUT,
}


REQUEST_ID_HEADER = "x-amzn-requestid"


def fail_request(timeline: Timeline, exc: BaseException) -> None:
    """Record a failed call on the timeline: its class, code, description and HTTP status, and
    the server's request id where the failure carries one (a botocore ClientError's
    ResponseMetadata; a stream that broke later keeps the id its response headers gave)."""
    error, code, status = classify(exc)
    if timeline.server_request_id is None and isinstance(exc, botocore.exceptions.ClientError):
        request_id = exc.response.get("ResponseMetadata", {}).get("RequestId")
        if request_id:
            timeline.server_request_id = str(request_id)
    timeline.fail(error, code, describe_failure(exc), status)


def describe_failure(exc: BaseException) -> str:
    """`describe`, plus what a modelStreamErrorException adds: the model's own status and
    message (originalStatusCode, originalMessage), which the lean decoder keeps and botocore's
    own decoder drops."""
    text = describe(exc)
    if isinstance(exc, botocore.exceptions.ClientError):
        original = exc.response.get("originalStatusCode")
        if original is not None:
            detail = exc.response.get("originalMessage") or ""
            text = redact_text(f"originalStatusCode {original}: {detail} ({text})")[:500]
    elif isinstance(exc, botocore.exceptions.ParamValidationError):
        text = (
            f"{text[:300]} (the installed botocore {botocore.__version__} does not know this "
            "field; target.request_path: signed sends it)"
        )
    return text


def classify(exc: BaseException) -> tuple[ErrorClass, str, int | None]:
    """The error class, a short code and the HTTP status (if any) of a failed call."""
    name = type(exc).__name__
    if isinstance(exc, UnsupportedOption):
        return ErrorClass.CLIENT, "UnsupportedOption", None
    if isinstance(exc, botocore.exceptions.EventStreamError):
        # botocore leaves the code empty for an exception type its model does not know.
        code = _server_code(exc) or name
        return _STREAM_ERROR_CLASSES.get(code.lower(), ErrorClass.SERVER), code, None
    if isinstance(exc, botocore.exceptions.ClientError):
        code = _server_code(exc) or name
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


def _server_code(exc: botocore.exceptions.ClientError) -> str:
    """The error code the server sent: its text, redacted (it reaches report.json's
    error_codes), and bounded."""
    code = exc.response.get("Error", {}).get("Code")
    return redact_text(str(code))[:200] if code else ""
