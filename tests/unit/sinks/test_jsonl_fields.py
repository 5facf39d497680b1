"""Which fields a run's samples.jsonl leaves out: those none of its APIs can measure, so that
no column is null on every line (a column no reader can type)."""

from __future__ import annotations

from loadgen.sinks.jsonl import (
    FIRST_BYTE_FIELDS,
    SERVER_LATENCY_FIELDS,
    STREAMED_FIELDS,
    unmeasured_fields,
)


def test_a_streaming_bedrock_run_leaves_out_only_first_byte_latency() -> None:
    assert unmeasured_fields(["bedrock-converse-stream"]) == FIRST_BYTE_FIELDS
    assert unmeasured_fields(["bedrock-invoke-stream"]) == ()


def test_a_non_streaming_run_has_no_first_token_and_openai_no_server_latency() -> None:
    assert set(unmeasured_fields(["bedrock-converse"])) == {*STREAMED_FIELDS, *FIRST_BYTE_FIELDS}
    assert set(unmeasured_fields(["openai-chat"])) == {*SERVER_LATENCY_FIELDS, *FIRST_BYTE_FIELDS}
    assert set(unmeasured_fields(["openai-chat-nostream"])) == {
        *STREAMED_FIELDS,
        *SERVER_LATENCY_FIELDS,
        *FIRST_BYTE_FIELDS,
    }


def test_compare_streaming_keeps_what_either_api_measures() -> None:
    # The streaming twin measures TTFT: the non-streaming lines carry it as null.
    assert unmeasured_fields(["bedrock-invoke-stream", "bedrock-invoke"]) == ()
    assert unmeasured_fields(["openai-chat", "openai-chat-nostream"]) == (
        *SERVER_LATENCY_FIELDS,
        *FIRST_BYTE_FIELDS,
    )
