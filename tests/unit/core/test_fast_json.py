"""fast_json reads what json reads, to the same values and types, and writes lines that read
back to the same values; a Sample's line reads as the stdlib's line of it, key for key."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadgen.core import fast_json
from loadgen.core.sample import ErrorClass, LineFormat, Sample, read_samples
from loadgen.sinks.jsonl import JsonlSink

# JSON values with the corners where orjson and json part: integers past 64 bits, floats of
# every size (NaN and infinities excluded: json writes them, no JSON reader should read them
# as numbers), and any text (non-ASCII, control characters).
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=20,
)


def typed(value: Any) -> Any:
    """`value` with the type of every number in it, so 1 and 1.0 compare unequal."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return (type(value).__name__, value)


@settings(max_examples=300, deadline=None)
@given(documents, st.booleans())
def test_loads_gives_what_json_gives(document: Any, ascii_only: bool) -> None:
    data = json.dumps(document, ensure_ascii=ascii_only).encode("utf-8")
    assert typed(fast_json.loads(data)) == typed(json.loads(data))


@pytest.mark.parametrize(
    "data",
    [
        b"NaN",
        b"[Infinity, -Infinity]",
        b"1e400",
        b'"\\ud800"',
        b"\xef\xbb\xbf{}",
        '{"a": 1}'.encode("utf-16"),
        b"-9223372036854775809",
        b"18446744073709551616",
        b'{"a":1,"a":2}',
        b"-0",
        b" [1.5, 2] ",
    ],
)
def test_loads_follows_json_where_orjson_parts_from_it(data: bytes) -> None:
    assert typed(fast_json.loads(data)) == typed(json.loads(data))


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_loads_refuses_what_json_refuses(data: bytes) -> None:
    try:
        expected = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        with pytest.raises(type(exc)):
            fast_json.loads(data)
    else:
        assert typed(fast_json.loads(data)) == typed(expected)


@settings(max_examples=300, deadline=None)
@given(documents)
def test_a_line_reads_back_to_the_same_values(document: Any) -> None:
    line = fast_json.dumps_line(document)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert typed(json.loads(line)) == typed(document)


def test_a_line_with_a_lone_surrogate_is_jsons_line() -> None:
    document = {"error_message": "bad \ud800 byte", "n": 2**70}
    assert fast_json.dumps_line(document) == (
        json.dumps(document, separators=(",", ":")).encode("ascii") + b"\n"
    )


samples = st.builds(
    Sample,
    request_id=st.integers(0, 10**9),
    model=st.text(max_size=20),
    row_id=st.text(max_size=10),
    warmup=st.booleans(),
    intended_us=st.integers(0, 10**12),
    dispatch_us=st.integers(0, 10**12),
    send_us=st.none() | st.integers(0, 10**12),
    first_token_us=st.none() | st.integers(0, 10**12),
    end_us=st.none() | st.integers(0, 10**12),
    itl_us=st.lists(st.integers(0, 10**7), max_size=60).map(tuple),
    deltas=st.integers(0, 1000),
    input_tokens=st.none() | st.integers(0, 2**70),
    output_tokens=st.none() | st.integers(0, 10**6),
    cost_usd=st.none() | st.floats(0, 10, allow_nan=False),
    server_latency_ms=st.none() | st.integers(0, 10**6),
    error=st.none() | st.sampled_from(ErrorClass),
    error_message=st.none() | st.text(max_size=30),
    response_text=st.none() | st.text(max_size=30),
)
FORMAT = LineFormat(run_id="run", t0_unix_us=1_700_000_000_000_000, keep_text=True)


@settings(max_examples=150, deadline=None)
@given(samples)
def test_a_samples_line_holds_what_the_stdlib_writes(sample: Sample) -> None:
    line = fast_json.dumps_line(sample.to_json_dict(FORMAT))
    stdlib_line = json.dumps(sample.to_json_dict(FORMAT), separators=(",", ":"))
    assert typed(json.loads(line)) == typed(json.loads(stdlib_line))
    assert list(json.loads(line)) == list(json.loads(stdlib_line))  # the same keys, in order


@settings(max_examples=40, deadline=None)
@given(st.lists(samples, max_size=5))
def test_samples_round_trip_through_the_sink(tmp_path_factory: Any, written: list[Sample]) -> None:
    path: Path = tmp_path_factory.mktemp("sink") / "samples.jsonl"
    sink = JsonlSink(path, line_format=FORMAT)
    sink.start()
    for sample in written:
        sink.add(sample)
        # each line is whole on disk as soon as it is added (a killed run keeps it)
        assert path.read_bytes().endswith(b"\n")
    sink.stop()
    # What is read back writes the same lines (the line's own spelling: a cost in whole
    # nano-dollars, 0 for a connection not waited for, "" for no error code).
    read = list(read_samples(path))
    assert [s.to_json_dict(FORMAT) for s in read] == [s.to_json_dict(FORMAT) for s in written]
    assert [(s.request_id, s.error, s.end_us) for s in read] == [
        (s.request_id, s.error, s.end_us) for s in written
    ]
    assert sink.lines == len(written)
