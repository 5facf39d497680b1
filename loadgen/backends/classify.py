"""Failures every backend shares, in the docs/design.md error classes: HTTP statuses, transport
faults (aiohttp, sockets, timeouts), and a redacted one-line description."""

from __future__ import annotations

import json

import aiohttp

from loadgen.core.redact import redact_text
from loadgen.core.sample import ErrorClass
from loadgen.engine.backend import Timeline

_THROTTLE_CODES = frozenset(
    ("ThrottlingException", "ModelNotReadyException", "ServiceQuotaExceededException")
)


def status_class(status: int | None, code: str) -> ErrorClass:
    """The class of an HTTP error answer, by status and (for Bedrock) exception name."""
    # ModelNotReadyException is HTTP 429 in bedrock-runtime's model (the SDK retries it):
    # throttled by its status too. ServiceQuotaExceededException is HTTP 400, yet AWS says to
    # resubmit later: a capacity limit, counted with throttles, not as the client's mistake.
    if status == 429 or code in _THROTTLE_CODES:
        return ErrorClass.THROTTLED
    if status == 408 or code == "ModelTimeoutException":
        return ErrorClass.TIMEOUT
    # 424 is Bedrock's ModelErrorException: the model failed, not the request.
    if status is not None and 400 <= status < 500 and status != 424:
        return ErrorClass.CLIENT
    return ErrorClass.SERVER


def transport_class(exc: BaseException) -> ErrorClass | None:
    """The class of a fault below the API (sockets, timeouts, undecodable bodies), or None."""
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return ErrorClass.TIMEOUT
    if isinstance(exc, aiohttp.ClientError | ConnectionError):
        return ErrorClass.CONNECTION
    if isinstance(exc, json.JSONDecodeError | UnicodeDecodeError):
        return ErrorClass.PROTOCOL
    return None


def fail_incomplete(timeline: Timeline, missing: list[str]) -> None:
    """A stream that ended cleanly but without the events a complete answer ends with: no
    SDK raises for it (docs/design.md), so every streaming backend checks and records it here."""
    if missing:
        timeline.fail(
            ErrorClass.PROTOCOL, "IncompleteStream", f"stream ended without {' and '.join(missing)}"
        )


def describe(exc: BaseException) -> str:
    return redact_text(f"{type(exc).__name__}: {exc}")[:500]
