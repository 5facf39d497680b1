"""samples.jsonl's content-kind, reasoning, request-id and conversation fields: written on every
line in one type each, read back, and absent from older lines without harm."""

from __future__ import annotations

import pytest

from loadgen.core.sample import LineFormat, Sample
from loadgen.report.schema import validate_sample_line
from tests.factories import make_sample

pytestmark = pytest.mark.unit

FORMAT = LineFormat("run", 1_796_282_167_409_075)


def _reasoned() -> Sample:
    first = make_sample(5).first_token_us
    assert first is not None
    return make_sample(
        5,
        first_reasoning_us=first,
        first_answer_us=first + 120_000,
        first_tool_us=first + 300_000,
        reasoning_tokens=64,
        reasoning_tokens_estimated=True,
        server_request_id="3f1c2a9e-0d7b-4b6e-9a51-2c8d7e6f5a41",
        session_id=2,
        turn=3,
        stop_reason="tool_use",
    )


def test_a_reasoning_tool_using_turn_writes_its_kinds_and_ids() -> None:
    sample = _reasoned()
    line = sample.to_json_dict(FORMAT)
    assert validate_sample_line(line) == line
    assert (line["first_reasoning_us"], line["first_answer_us"], line["first_tool_us"]) == (
        sample.first_reasoning_us,
        sample.first_answer_us,
        sample.first_tool_us,
    )
    assert line["ttfa_service_us"] == line["ttft_service_us"] + 120_000
    assert line["reasoning_us"] == 120_000  # to the answer, the earlier of answer and tool
    assert (line["reasoning_tokens"], line["reasoning_tokens_estimated"]) == (64, True)
    assert line["server_request_id"] == sample.server_request_id
    assert (line["session_id"], line["turn"]) == (2, 3)


def test_a_plain_line_has_the_fields_empty_in_their_types() -> None:
    line = make_sample(1).to_json_dict(FORMAT)
    assert validate_sample_line(line) == line
    assert line["server_request_id"] == ""  # text is never null
    for name in ("first_reasoning_us", "reasoning_us", "reasoning_tokens", "session_id", "turn"):
        assert line[name] is None, name
    assert line["reasoning_tokens_estimated"] is False


def test_the_fields_read_back_and_older_lines_without_them_still_read() -> None:
    line = _reasoned().to_json_dict(FORMAT)
    back = Sample.from_json_dict(dict(line))
    assert back.to_json_dict(FORMAT) == line
    older = {
        k: v
        for k, v in line.items()
        if k
        not in {
            "first_reasoning_us",
            "first_answer_us",
            "first_tool_us",
            "ttfa_service_us",
            "reasoning_us",
            "reasoning_tokens",
            "reasoning_tokens_estimated",
            "server_request_id",
            "session_id",
            "turn",
        }
    }
    old = Sample.from_json_dict(older)
    assert (old.first_answer_us, old.server_request_id, old.turn) == (None, None, None)
    assert old.ttft_service_us == back.ttft_service_us
