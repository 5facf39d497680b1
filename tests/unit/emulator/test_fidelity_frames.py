"""The emulator's frames as Bedrock sends them, read by botocore's own decoder and parser
(the emulator never imports botocore): the "p" padding on every event, and the exception
frames of the mid-stream faults, shaped by the service model's event unions."""

from __future__ import annotations

import json
from typing import Any

import botocore.eventstream
import botocore.parsers
import botocore.session
import pytest

from loadgen.emulator import EmulatorConfig
from loadgen.emulator.eventstream import PADDING_ALPHABET, Padding, event_frame
from loadgen.emulator.overrides import apply_overrides, parse_fault
from loadgen.emulator.profiles import FAULT_KINDS
from loadgen.emulator.wire import (
    HTTP_FAULTS,
    MIDWAY_HTTP_ERRORS,
    STREAM_EXCEPTIONS,
    stream_exception,
)

OPERATIONS = {"ConverseStream": "stream", "InvokeModelWithResponseStream": "body"}
MODEL = botocore.session.get_session().get_service_model("bedrock-runtime")


def _messages(data: bytes) -> list[botocore.eventstream.EventStreamMessage]:
    buffer = botocore.eventstream.EventStreamBuffer()
    buffer.add_data(data)
    return list(buffer)


def _parsed(data: bytes, operation: str) -> dict[str, Any]:
    """What botocore's EventStream yields for one frame (an exception: {'Error': ...})."""
    (message,) = _messages(data)
    shape = MODEL.operation_model(operation).output_shape.members[OPERATIONS[operation]]
    parser = botocore.parsers.EventStreamJSONParser()
    parsed: dict[str, Any] = parser.parse(message.to_response_dict(), shape)
    return parsed


def test_every_event_carries_padding_of_bedrocks_alphabet_and_varying_length() -> None:
    lengths = set()
    for _ in range(300):
        (message,) = _messages(event_frame("contentBlockDelta", {"delta": {"text": "hi "}}))
        payload = json.loads(message.payload)
        padding = payload.pop("p")
        assert payload == {"delta": {"text": "hi "}}
        assert padding == PADDING_ALPHABET[: len(padding)]
        lengths.add(len(padding))
    assert min(lengths) >= 1 and max(lengths) <= len(PADDING_ALPHABET)
    assert len(lengths) > 30  # varies: a frame's size does not follow its text


def test_padding_is_the_frames_only_difference() -> None:
    plain = event_frame("messageStop", {"stopReason": "end_turn"}, padded=False)
    padded = event_frame("messageStop", {"stopReason": "end_turn"})
    (message,) = _messages(padded)
    padding = json.loads(message.payload)["p"]
    assert len(padded) - len(plain) == len(f',"p":"{padding}"')


def test_padding_draws_from_its_own_seeded_generator() -> None:
    first, second = Padding(seed=3), Padding(seed=3)
    assert [first.next() for _ in range(20)] == [second.next() for _ in range(20)]
    other = Padding(seed=4)
    assert [first.next() for _ in range(20)] != [other.next() for _ in range(20)]


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_botocore_drops_the_padding(operation: str) -> None:
    if operation == "ConverseStream":
        frame = event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "a"}})
        assert _parsed(frame, operation) == {
            "contentBlockDelta": {"contentBlockIndex": 0, "delta": {"text": "a"}}
        }
    else:
        frame = event_frame("chunk", {"bytes": "eyJ4IjoxfQ=="})
        assert _parsed(frame, operation) == {"chunk": {"bytes": b'{"x":1}'}}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("fault", list(STREAM_EXCEPTIONS))
def test_each_mid_stream_fault_is_a_modelled_exception(operation: str, fault: str) -> None:
    frame = stream_exception(fault, operation)  # type: ignore[arg-type]
    (message,) = _messages(frame)
    assert message.headers[":message-type"] == "exception"
    sent_type = message.headers[":exception-type"]
    union = MODEL.operation_model(operation).output_shape.members[OPERATIONS[operation]]
    assert sent_type in union.members  # a member of this operation's event union
    error = _parsed(frame, operation)["Error"]
    expected_type, message_text = STREAM_EXCEPTIONS[fault]  # type: ignore[index]
    assert error["Message"] == message_text
    # botocore names the error by the union's member (botocore's EventStreamError.code)
    assert error["Code"] == sent_type
    payload = json.loads(message.payload)
    if sent_type == "modelStreamErrorException":
        assert 100 <= payload["originalStatusCode"] <= 599  # the StatusCode shape's range
        assert payload["originalMessage"]
    if expected_type == "modelTimeoutException":
        if operation == "ConverseStream":  # no such member: the model's 408, wrapped
            assert sent_type == "modelStreamErrorException"
            assert payload["originalStatusCode"] == 408
        else:
            assert sent_type == "modelTimeoutException"


def test_every_fault_kind_has_a_way_to_strike() -> None:
    in_stream = set(STREAM_EXCEPTIONS) | {"cut_stream", "drop_connection", "bad_checksum"}
    slow = {"stall", "slow_trickle"}
    for kind in FAULT_KINDS:
        assert kind in HTTP_FAULTS or kind in in_stream or kind in slow, kind
    for kind in STREAM_EXCEPTIONS:  # and the non-streaming APIs answer them halfway through
        assert kind in MIDWAY_HTTP_ERRORS, kind


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("model_timeout", 408, "ModelTimeoutException"),
        ("model_not_ready", 429, "ModelNotReadyException"),
        ("quota_exceeded", 400, "ServiceQuotaExceededException"),
    ],
)
def test_http_faults_have_the_service_models_status(kind: str, status: int, code: str) -> None:
    assert HTTP_FAULTS[kind][:2] == (status, code)  # type: ignore[index]
    assert MODEL.shape_for(code).metadata["error"]["httpStatusCode"] == status


def test_the_fault_flag_takes_every_new_kind() -> None:
    new = [kind for kind in FAULT_KINDS if kind.endswith("_midstream") or kind in HTTP_FAULTS]
    assert {"model_timeout", "model_not_ready", "quota_exceeded"} <= set(new)
    config = apply_overrides(EmulatorConfig(), faults=[f"{kind}=0.01" for kind in new])
    for kind in new:
        assert getattr(config.default.faults, kind) == 0.01
        assert parse_fault(f"{kind}=0.5") == (kind, 0.5)
