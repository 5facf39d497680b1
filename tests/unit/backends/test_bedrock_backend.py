"""Error classification on botocore's and aiohttp's real exception types."""

from __future__ import annotations

import aiohttp
import botocore.eventstream
import botocore.exceptions
import pytest

from loadgen.backends.bedrock import classify
from loadgen.backends.bedrock_client import fail_request
from loadgen.backends.lean_eventstream import FrameDecoder, frame_error
from loadgen.core.sample import ErrorClass
from loadgen.emulator.eventstream import encode_message
from loadgen.engine.backend import Timeline


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
        (client_error("ServiceQuotaExceededException", 400), ErrorClass.THROTTLED),
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
        (stream_error("serviceUnavailableException"), ErrorClass.SERVER),
        (stream_error("modelTimeoutException"), ErrorClass.TIMEOUT),
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


def test_a_model_stream_error_keeps_the_models_own_status_and_message() -> None:
    payload = b'{"message":"stream failed","originalStatusCode":503,"originalMessage":"overloaded"}'
    headers = {
        ":message-type": "exception",
        ":exception-type": "modelStreamErrorException",
        ":content-type": "application/json",
    }
    [(read, body)] = list(FrameDecoder().feed(encode_message(headers, payload)))
    error = frame_error(read, body, "ConverseStream")
    assert isinstance(error, botocore.exceptions.EventStreamError)
    timeline = Timeline()
    fail_request(timeline, error)
    assert (timeline.error, timeline.error_code) == (
        ErrorClass.SERVER,
        "modelStreamErrorException",
    )
    assert timeline.error_message is not None
    assert timeline.error_message.startswith("originalStatusCode 503: overloaded")


def test_a_failed_calls_request_id_reaches_the_timeline() -> None:

    response = {
        "Error": {"Code": "ThrottlingException", "Message": "slow"},
        "ResponseMetadata": {"HTTPStatusCode": 429, "RequestId": "req-42"},
    }
    timeline = Timeline()
    fail_request(timeline, botocore.exceptions.ClientError(response, "Converse"))  # type: ignore[arg-type]
    assert (timeline.server_request_id, timeline.error) == ("req-42", ErrorClass.THROTTLED)
