"""Bedrock's HTTP side, outside the event stream: what a request carries that the emulator
reads, and what an error response looks like. Every Bedrock API (Converse, InvokeModel and
their streaming forms) shares these."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from loadgen.emulator.eventstream import exception_frame
from loadgen.emulator.profiles import FaultKind

EVENTSTREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"
_ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"
_THROTTLED = "Too many requests, please wait before trying again."
# Bedrock's own messages for each quota it refuses a request by.
RPM_THROTTLED = _THROTTLED
TPM_THROTTLED = "Too many tokens, please wait before trying again."
TPD_THROTTLED = "Too many tokens per day, please wait before trying again."
THROTTLED_MESSAGES: Mapping[str, str] = {
    "rpm": RPM_THROTTLED,
    "tpm": TPM_THROTTLED,
    "tpd": TPD_THROTTLED,
}
# What Bedrock says when a model has no capacity left for on-demand requests.
OVERLOADED = (503, "ServiceUnavailableException", "Bedrock is unable to process your request.")

# Faults answered with an HTTP error before any stream bytes: (status, error type, message).
HTTP_FAULTS: Mapping[FaultKind, tuple[int, str, str]] = {
    "throttle": (429, "ThrottlingException", _THROTTLED),
    "server_error": (500, "InternalServerException", "The server encountered an error."),
    "unavailable": (503, "ServiceUnavailableException", "The service is unavailable."),
    "model_error": (
        424,
        "ModelErrorException",
        "The model encountered an error while processing the request.",
    ),
    # Status codes from the service model's error shapes; messages from their documentation.
    "model_timeout": (
        408,
        "ModelTimeoutException",
        "The request took too long to process. Processing time exceeded the model timeout length.",
    ),
    "model_not_ready": (
        429,
        "ModelNotReadyException",
        "The model specified in the request is not ready to serve inference requests.",
    ),
    "quota_exceeded": (
        400,
        "ServiceQuotaExceededException",
        "Your request exceeds the service quota for your account. You can resubmit your "
        "request later.",
    ),
}
# Faults that replace a delta halfway through with an exception frame: (:exception-type,
# message). The type names the member of ConverseStreamOutput, hence the lowercase first letter.
STREAM_EXCEPTIONS: Mapping[FaultKind, tuple[str, str]] = {
    "throttle_midstream": ("throttlingException", _THROTTLED),
    "model_stream_error": ("modelStreamErrorException", "The model stream failed."),
    "server_error_midstream": (
        "internalServerException",
        "An internal server error occurred. Retry your request.",
    ),
    "unavailable_midstream": (
        "serviceUnavailableException",
        "The service isn't currently available. Try again later.",
    ),
    "validation_midstream": (
        "validationException",
        "Input validation failed. Check your request parameters and retry the request.",
    ),
    "model_timeout_midstream": ("modelTimeoutException", HTTP_FAULTS["model_timeout"][2]),
}
# modelStreamErrorException carries what the model itself answered: originalStatusCode and
# originalMessage (the service model's ModelStreamErrorException). The emulator's values.
MODEL_STREAM_ORIGINAL = (500, "The model encountered an error while generating the response.")


# A mid-stream exception on an API that does not stream: the HTTP error the response becomes
# once half the generation time has passed.
MIDWAY_HTTP_ERRORS: Mapping[FaultKind, tuple[int, str, str]] = {
    "throttle_midstream": (429, "ThrottlingException", _THROTTLED),
    "model_stream_error": HTTP_FAULTS["model_error"],
    "server_error_midstream": HTTP_FAULTS["server_error"],
    "unavailable_midstream": HTTP_FAULTS["unavailable"],
    "validation_midstream": (
        400,
        "ValidationException",
        STREAM_EXCEPTIONS["validation_midstream"][1],
    ),
    "model_timeout_midstream": HTTP_FAULTS["model_timeout"],
}


def stream_exception(fault: FaultKind, operation: str) -> bytes:
    """The exception frame a mid-stream fault sends on `operation`'s stream, as its event
    union in the service model shapes it. ConverseStreamOutput has no modelTimeoutException
    (InvokeModelWithResponseStream's ResponseStream does): there a model timeout arrives as
    modelStreamErrorException with the model's status, 408."""
    exception_type, message = STREAM_EXCEPTIONS[fault]
    if exception_type == "modelTimeoutException" and operation == "ConverseStream":
        return exception_frame(
            "modelStreamErrorException", message, originalStatusCode=408, originalMessage=message
        )
    if exception_type == "modelStreamErrorException":
        status, original = MODEL_STREAM_ORIGINAL
        return exception_frame(
            exception_type, message, originalStatusCode=status, originalMessage=original
        )
    return exception_frame(exception_type, message)


def error_response(status: int, error_type: str, message: str, request_id: str) -> web.Response:
    """A REST-JSON error as Bedrock sends it: botocore reads the code from x-amzn-ErrorType
    (everything before the colon), the message from the body."""
    return web.json_response(
        {"message": message},
        status=status,
        headers={
            "x-amzn-ErrorType": error_type + _ERROR_TYPE_SUFFIX,
            "x-amzn-RequestId": request_id,
        },
    )


def max_tokens(body: Mapping[str, Any]) -> int | None:
    """inferenceConfig.maxTokens, if the request sets it (ValueError if it is not valid)."""
    config = body.get("inferenceConfig")
    value = config.get("maxTokens") if isinstance(config, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("inferenceConfig.maxTokens must be an integer of at least 1")
    return value


def input_tokens(body: Mapping[str, Any]) -> int:
    """About four characters a token, over all the text of system and messages; at least 1."""
    blocks = list(_list(body.get("system")))
    for message in _list(body.get("messages")):
        if isinstance(message, dict):
            blocks.extend(_list(message.get("content")))
    chars = sum(
        len(block["text"])
        for block in blocks
        if isinstance(block, dict) and isinstance(block.get("text"), str)
    )
    return max(1, math.ceil(chars / 4))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
