"""Error classification on botocore's and aiohttp's real exception types."""

from __future__ import annotations

import aiohttp
import botocore.eventstream
import botocore.exceptions
import pytest

from loadgen.backends.bedrock import classify
from loadgen.core.sample import ErrorClass


def client_error(code: str, status: int) -> botocore.exceptions.ClientError:
    response = {
        "Error": {"Code": code, "Message": "m"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return botocore.exceptions.ClientError(response, "ConverseStream")  # type: ignore[arg-type]


def stream_error(code: str) -> botocore.exceptions.EventStreamError:
    response = {"Error": {"Code": code, "Message": "m"}}
    return botocore.exceptions.EventStreamError(response, "ConverseStream")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (client_error("ThrottlingException", 429), ErrorClass.THROTTLED),
        (client_error("ModelNotReadyException", 429), ErrorClass.THROTTLED),
        (client_error("ValidationException", 400), ErrorClass.CLIENT),
        (client_error("AccessDeniedException", 403), ErrorClass.CLIENT),
        (client_error("ResourceNotFoundException", 404), ErrorClass.CLIENT),
        (client_error("ModelTimeoutException", 408), ErrorClass.TIMEOUT),
        (client_error("ModelErrorException", 424), ErrorClass.SERVER),
        (client_error("InternalServerException", 500), ErrorClass.SERVER),
        (client_error("ServiceUnavailableException", 503), ErrorClass.SERVER),
        (stream_error("throttlingException"), ErrorClass.THROTTLED),
        (stream_error("modelStreamErrorException"), ErrorClass.SERVER),
        (stream_error("internalServerException"), ErrorClass.SERVER),
        (stream_error("validationException"), ErrorClass.CLIENT),
        (aiohttp.ClientPayloadError("Response payload is not completed"), ErrorClass.CONNECTION),
        (aiohttp.ServerDisconnectedError(), ErrorClass.CONNECTION),
        (
            botocore.exceptions.EndpointConnectionError(endpoint_url="http://x"),
            ErrorClass.CONNECTION,
        ),
        (botocore.exceptions.ReadTimeoutError(endpoint_url="http://x"), ErrorClass.TIMEOUT),
        (botocore.exceptions.ConnectTimeoutError(endpoint_url="http://x"), ErrorClass.TIMEOUT),
        (botocore.eventstream.ChecksumMismatch(1, 2), ErrorClass.PROTOCOL),
        (ConnectionResetError(), ErrorClass.CONNECTION),
    ],
)
def test_classification(exc: Exception, expected: ErrorClass) -> None:
    error_class, code, _ = classify(exc)
    assert error_class is expected
    assert code
