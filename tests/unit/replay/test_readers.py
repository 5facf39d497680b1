"""The readers: each layout told from its content, each record parsed or skipped with its
reason, damaged gzip read as far as it is sound. Records are written here the way each
writer documents them (docs/replay.md cites the sources)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from loadgen.replay.gzipped import gunzip
from loadgen.replay.layouts import read_file
from loadgen.replay.records import ReplayRecord, Skips
from loadgen.replay.sample_logs import SampleShape, sample_records


def record(**changes: Any) -> dict[str, Any]:
    """An invocation log record of a Converse call, as the AWS documentation shows one."""
    base: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": "2025-06-03T14:00:07Z",
        "accountId": "123456789012",
        "identity": {"arn": "arn:aws:sts::123456789012:assumed-role/r/s"},
        "region": "us-east-1",
        "requestId": "915a6a04-3f83-4c70-a277-7fbf7ea546b3",
        "operation": "Converse",
        "modelId": "anthropic.claude-3-haiku-20240307-v1:0",
        "input": {
            "inputContentType": "application/json",
            "inputBodyJson": {
                "system": [{"text": "Be brief."}],
                "messages": [
                    {"role": "user", "content": [{"text": "Why is the sky blue?"}]},
                    {"role": "assistant", "content": [{"text": "Rayleigh scattering."}]},
                    {"role": "user", "content": [{"text": "And sunsets?"}, {"image": {}}]},
                ],
            },
            "inputTokenCount": 35,
            "cacheReadInputTokenCount": 1024,
        },
        "output": {
            "outputContentType": "application/json",
            "outputBodyJson": {
                "output": {"message": {"role": "assistant", "content": [{"text": "..."}]}},
                "stopReason": "end_turn",
                "metrics": {"latencyMs": 3640},
                "usage": {"inputTokens": 35, "outputTokens": 446, "totalTokens": 481},
            },
            "outputTokenCount": 446,
        },
        "performanceConfig": {"latency": "optimized"},
    }
    base.update(changes)
    return base


def invoking(model: str) -> dict[str, Any]:
    return {"modelId": model, "operation": "InvokeModel"}


def read(name: str, data: bytes) -> tuple[list[ReplayRecord], Skips, str | None]:
    skips = Skips()
    found = read_file(name, data, skips)
    return found.records, skips, found.layout


def jsonl(*values: Any) -> bytes:
    return "".join(json.dumps(value) + "\n" for value in values).encode()


def test_an_invocation_record_gives_every_field_the_replay_uses() -> None:
    (got,), skips, layout = read("a.json", jsonl(record()))
    assert layout == "bedrock-invocation-log" and not skips.records
    assert got.unix_us == 1748959207 * 1_000_000 and got.whole_second
    assert (got.model, got.operation) == ("anthropic.claude-3-haiku-20240307-v1:0", "Converse")
    assert (got.input_tokens, got.output_tokens, got.cache_read_tokens) == (35, 446, 1024)
    assert got.prompt_tokens == 35 + 1024
    assert (got.latency_ms, got.latency_optimized) == (3640, True)
    assert got.latency == "optimized"
    # The turns before the last user message are its history; the image is not sent.
    assert got.system == "Be brief."
    assert got.request is not None and got.request.history == (
        {"role": "user", "content": [{"text": "Why is the sky blue?"}]},
        {"role": "assistant", "content": [{"text": "Rayleigh scattering."}]},
    )
    assert got.user == "And sunsets?"


@pytest.mark.parametrize(
    ("body", "user"),
    [
        ({"prompt": "[INST] hi [/INST]", "max_gen_len": 20}, "[INST] hi [/INST]"),  # Llama
        ({"inputText": "User: hi\nBot:"}, "User: hi\nBot:"),  # Titan
        (  # Anthropic's native Messages body
            {"messages": [{"role": "user", "content": "hello"}], "anthropic_version": "x"},
            "hello",
        ),
        ({"messages": [{"role": "user", "content": [{"image": {}}]}]}, None),  # no text at all
        ("{...}", None),  # a body logged as a string: not the request
    ],
)
def test_native_bodies_give_their_prompt(body: Any, user: str | None) -> None:
    data = record(operation="InvokeModel")
    data["input"] = {"inputBodyJson": body, "inputTokenCount": 9}
    (got,), _, _ = read("b.json", jsonl(data))
    assert got.user == user


def test_a_stream_logs_its_latency_in_the_last_chunks_metrics() -> None:
    data = record(operation="InvokeModelWithResponseStream")
    data["output"]["outputBodyJson"] = [
        {"type": "content_block_delta"},
        {"amazon-bedrock-invocationMetrics": {"invocationLatency": 812, "firstByteLatency": 90}},
    ]
    (got,), _, _ = read("c.json", jsonl(data))
    assert got.latency_ms == 812


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"operation": "ApplyGuardrail"}, "unsupported_operation"),
        ({"operation": None}, "unsupported_operation"),
        (invoking("amazon.titan-embed-text-v2:0"), "not_a_text_model"),
        (invoking("amazon.nova-canvas-v1:0"), "not_a_text_model"),
        (invoking("stability.sd3-5-large-v1:0"), "not_a_text_model"),
        ({"errorCode": "ThrottlingException"}, "failed_call"),
        ({"timestamp": "last tuesday"}, "malformed_record"),
        ({"timestamp": None}, "missing_field"),
        ({"modelId": ""}, "missing_field"),
        ({"output": {"outputBodyJson": {}}}, "missing_field"),
    ],
)
def test_what_cannot_be_replayed_is_counted_under_its_reason(
    changes: dict[str, Any], reason: str
) -> None:
    records, skips, _ = read("d.jsonl", jsonl(record(), record(**changes)))
    assert len(records) == 1
    assert skips.records == {reason: 1}
    assert skips.examples[0].where == "d.jsonl:2"


def test_malformed_lines_are_counted_and_the_rest_read() -> None:
    data = jsonl(record()) + b"{not json\n[1, 2]\n\n" + jsonl(record())
    records, skips, _ = read("e.jsonl", data)
    assert len(records) == 2
    assert skips.records == {"malformed_record": 2}
    assert [example.where for example in skips.examples] == ["e.jsonl:2", "e.jsonl:3"]


def test_a_damaged_gzip_keeps_the_whole_lines_before_the_damage() -> None:
    lines = jsonl(*(record(requestId=str(i)) for i in range(200)))
    whole = gzip.compress(lines)
    records, skips, _ = read("f.json.gz", whole[: len(whole) // 2])
    assert 0 < len(records) < 200
    assert skips.files == {"gzip_corrupt": 1} and not skips.records
    assert str(len(records)) in skips.examples[0].detail
    flipped = bytearray(whole)
    flipped[len(flipped) // 2] ^= 0xFF
    records, skips, _ = read("g.json.gz", bytes(flipped))
    assert skips.files == {"gzip_corrupt": 1} and len(records) < 200


def test_gzip_members_joined_are_all_read() -> None:
    data = gzip.compress(jsonl(record())) + gzip.compress(jsonl(record(), record()))
    assert gunzip(data) == (jsonl(record(), record(), record()), None)
    records, skips, _ = read("h.json.gz", data)
    assert len(records) == 3 and not skips.files


def test_cloudwatch_filter_log_events_output() -> None:
    events = [
        {"logStreamName": "aws/bedrock/modelinvocations", "timestamp": 1, "message": json.dumps(r)}
        for r in (record(), record(operation="ConverseStream"))
    ]
    output = {"events": [*events, {"timestamp": 2}], "searchedLogStreams": []}
    records, skips, layout = read("events.json", json.dumps(output, indent=2).encode())
    assert layout == "cloudwatch-filter-log-events"
    assert [r.operation for r in records] == ["Converse", "ConverseStream"]
    assert skips.records == {"malformed_record": 1}  # the event without a message


def test_cloudwatch_export_lines_lead_with_the_events_time() -> None:
    text = "".join(
        f"2025-06-03T14:00:0{i}.123Z {json.dumps(record(timestamp=f'2025-06-03T14:00:0{i}Z'))}\n"
        for i in range(3)
    )
    records, _, layout = read("000000", gzip.compress(text.encode()))
    assert layout == "cloudwatch-export"
    # The record's own timestamp is the call's instant, not the event's.
    assert [r.unix_us % 10_000_000 // 1_000_000 for r in records] == [0, 1, 2]


def test_the_azure_trace_keeps_its_sub_second_instants() -> None:
    text = (
        "TIMESTAMP,ContextTokens,GeneratedTokens\n"
        "2023-11-16 18:17:03.9799600,4808,10\n"
        "2023-11-16 18:17:04.0319600,3180,8\n"
        "2023-11-16 18:17:04.04,x,8\n"
    )
    records, skips, layout = read("AzureLLMInferenceTrace_code.csv", text.encode())
    assert layout == "azure-llm-trace"
    assert [(r.input_tokens, r.output_tokens, r.model) for r in records] == [
        (4808, 10, None),
        (3180, 8, None),
    ]
    assert records[1].unix_us - records[0].unix_us == 52_000
    assert not records[0].whole_second
    assert skips.records == {"malformed_record": 1}


def test_burstgpt_counts_its_failed_rows() -> None:
    text = (
        "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
        "5,ChatGPT,472,18,490,Conversation log\n"
        "45,GPT-4,1087,0,1087,API log\n"
        "118,GPT-4,417,276,693,Conversation log\n"
    )
    records, skips, layout = read("BurstGPT_1.csv", text.encode())
    assert layout == "burstgpt"
    assert [(r.unix_us, r.model, r.input_tokens) for r in records] == [
        (5_000_000, "ChatGPT", 472),
        (118_000_000, "GPT-4", 417),
    ]
    assert skips.records == {"failed_call": 1}


def test_a_file_of_another_kind_is_counted_not_read() -> None:
    records, skips, layout = read("notes.txt", b"hello\nworld\n")
    assert (records, layout) == ([], None)
    assert skips.files == {"unknown_layout": 1}
    _, skips, _ = read("latin1.jsonl", b'{"a": "\xe9"}\n')
    assert skips.files == {"not_utf8": 1}


def test_the_sample_logs_read_back_as_written() -> None:
    shape = SampleShape(seconds=5, rate=4, seed=2, bodies=True)
    written = sample_records(shape)
    records, skips, _ = read("sample.jsonl", jsonl(*written))
    assert not skips.records
    assert [(r.model, r.input_tokens, r.output_tokens) for r in records] == [
        (w["modelId"], w["input"]["inputTokenCount"], w["output"]["outputTokenCount"])
        for w in written
    ]
    assert all(r.user for r in records)
