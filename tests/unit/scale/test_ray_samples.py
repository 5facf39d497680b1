"""A Ray actor's samples.jsonl carried to the driver in chunks (loadgen/scale/ray_samples.py):
whole lines only, each byte once and in order, whatever the chunks' repeats and order.
Through a real cluster, with a node killed: tests/e2e/test_ray_cluster.py."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from loadgen.core.sample import read_samples
from loadgen.scale import ray_samples
from loadgen.scale.ray_barrier import StartBarrier
from loadgen.scale.ray_samples import NewLines, ShareSamples
from loadgen.sinks.jsonl import JsonlSink
from tests.factories import make_mixed_samples


def _write(path: Path, count: int, start: int = 0) -> JsonlSink:
    sink = JsonlSink(path)
    sink.start()
    for sample in make_mixed_samples()[start : start + count]:
        sink.add(sample)
    return sink


def test_chunks_carry_every_line_once_and_the_driver_file_equals_the_actor_file(
    tmp_path: Path,
) -> None:
    actor_file = tmp_path / "actor.jsonl"
    lines = NewLines(actor_file)
    assert lines.next_chunk() is None  # the run has not opened it yet
    sink = _write(actor_file, 0)
    driver = ShareSamples(tmp_path / "driver.jsonl")
    first = lines.next_chunk()
    assert first == (0, b"")  # announces the file: the driver's exists from now on
    driver.add(*first)
    lines.acknowledge(*first)
    assert driver.path.read_bytes() == b"" and lines.next_chunk() is None
    samples = make_mixed_samples()
    for batch in range(4):
        for sample in samples[batch * 25 : (batch + 1) * 25]:
            sink.add(sample)
        chunk = lines.next_chunk()
        assert chunk is not None
        driver.add(*chunk)
        lines.acknowledge(*chunk)
    sink.stop()
    assert lines.rest() == (actor_file.stat().st_size, b"")
    assert driver.path.read_bytes() == actor_file.read_bytes()
    assert [s.request_id for s in read_samples(driver.path)] == list(range(100))


def test_a_line_still_being_written_waits_for_the_next_chunk(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    _write(path, 3).stop()
    whole = path.read_bytes()
    with path.open("ab") as handle:
        handle.write(b'{"request_id": 3, "mod')  # a read that lands mid-line
    lines = NewLines(path)
    chunk = lines.next_chunk()
    assert chunk == (0, whole)
    lines.acknowledge(*chunk)
    assert lines.next_chunk() is None
    with path.open("ab") as handle:
        handle.write(b'el": "x"}\n')
    assert lines.next_chunk() == (len(whole), b'{"request_id": 3, "model": "x"}\n')


def test_an_unacknowledged_chunk_is_sent_again_from_the_same_offset(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    sink = _write(path, 10)
    lines = NewLines(path)
    lost = lines.next_chunk()  # a post that timed out: not acknowledged
    assert lost is not None
    for sample in make_mixed_samples()[10:20]:
        sink.add(sample)
    again = lines.next_chunk()
    assert again is not None and again[0] == lost[0] == 0 and again[1].startswith(lost[1])
    # The timed-out post arrived after all: the driver keeps its bytes once.
    driver = ShareSamples(tmp_path / "driver.jsonl")
    driver.add(*lost)
    driver.add(*again)
    assert driver.path.read_bytes() == path.read_bytes()


def test_chunks_out_of_order_or_repeated_are_written_in_order_once(tmp_path: Path) -> None:
    source = tmp_path / "samples.jsonl"
    _write(source, 30).stop()
    data = source.read_bytes()
    cuts = [0, data.index(b"\n") + 1, len(data) // 2, len(data)]
    chunks = [(a, data[a:b]) for a, b in itertools.pairwise(cuts)]
    driver = ShareSamples(tmp_path / "driver.jsonl")
    driver.add(*chunks[2])  # past a gap: held back
    assert driver.size == 0
    driver.add(*chunks[0])
    assert driver.path.read_bytes() == chunks[0][1]
    driver.add(*chunks[0])  # a repeat
    driver.add(chunks[1][0] - 5, data[chunks[1][0] - 5 : chunks[1][0] + 7])  # an overlap
    driver.add(*chunks[1])
    assert driver.path.read_bytes() == data
    assert driver.size == len(data) and driver.pending == {}


def test_a_long_backlog_goes_in_chunks_of_whole_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "samples.jsonl"
    _write(path, 50).stop()
    monkeypatch.setattr(ray_samples, "MAX_CHUNK_BYTES", 2000)
    lines = NewLines(path)
    driver = ShareSamples(tmp_path / "driver.jsonl")
    posts = 0
    while (chunk := lines.next_chunk()) is not None:
        assert chunk[1].endswith(b"\n") and len(chunk[1]) <= 2000
        driver.add(*chunk)
        lines.acknowledge(*chunk)
        posts += 1
    assert posts > 1
    assert driver.path.read_bytes() == path.read_bytes()


def test_the_barrier_keeps_each_chunk_until_the_driver_says_it_was_written() -> None:
    barrier = StartBarrier(2)
    assert barrier.post_samples(1, 0, b"a\n") == 0
    barrier.request_stop()
    assert barrier.post_samples(0, 0, b"b\n") == 1  # the post also polls for stops
    taken = barrier.take_samples(0)
    assert taken == [(1, 1, 0, b"a\n"), (2, 0, 0, b"b\n")]
    # That answer was lost on its way (the call timed out): the next look gets them again.
    assert barrier.take_samples(0) == taken
    barrier.post_samples(1, 2, b"c\n")
    assert barrier.take_samples(2) == [(3, 1, 2, b"c\n")]  # 1 and 2 written: dropped
    assert barrier.take_samples(3) == [] and barrier.chunks == []
