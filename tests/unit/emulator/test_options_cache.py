"""Prompt caching in virtual time: a write, then reads of the same prefix within its TTL, the
longest prefix read and the rest written, the 1-hour TTL, a read refreshing the TTL, the
minimum prefix, and how much TTFT a read takes off."""

from __future__ import annotations

from loadgen.emulator.apis.content import ContentReader
from loadgen.emulator.prompt_cache import PromptCache, ttft_after_cache_ns
from loadgen.emulator.request_options import CachePoint


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _points(*blocks: str, ttl: str | None = None) -> list[CachePoint]:
    """A cache point after each block of text."""
    reader = ContentReader()
    for block in blocks:
        reader.text(block)
        reader.cache_point(ttl)
    return reader.cache_points


def _use(cache: PromptCache, points: list[CachePoint]) -> tuple[int, int]:
    usage = cache.lookup(points)
    cache.store(usage)
    return usage.read_tokens, usage.write_tokens


def test_first_request_writes_and_the_next_reads_within_the_ttl() -> None:
    clock = Clock()
    cache = PromptCache(clock)
    points = _points("s" * 4000)
    assert _use(cache, points) == (0, 1000)
    clock.now = 299.0
    assert _use(cache, points) == (1000, 0)


def test_an_entry_expires_after_its_ttl_and_a_read_refreshes_it() -> None:
    clock = Clock()
    cache = PromptCache(clock)
    points = _points("s" * 4000)
    _use(cache, points)
    clock.now = 200.0
    assert _use(cache, points)[0] == 1000  # read at 200 s: lives until 500 s
    clock.now = 450.0
    assert _use(cache, points)[0] == 1000
    clock.now = 750.1
    assert _use(cache, points) == (0, 1000)


def test_the_one_hour_ttl() -> None:
    clock = Clock()
    cache = PromptCache(clock)
    points = _points("s" * 4000, ttl="1h")
    assert points[0].ttl_s == 3600.0
    _use(cache, points)
    clock.now = 3599.0
    assert _use(cache, points)[0] == 1000


def test_the_longest_cached_prefix_is_read_and_the_rest_written() -> None:
    cache = PromptCache(Clock())
    system_only = _points("s" * 4000)
    _use(cache, system_only)
    both = _points("s" * 4000, "c" * 2000)
    assert _use(cache, both) == (1000, 500)
    assert _use(cache, both) == (1500, 0)


def test_a_different_prefix_misses() -> None:
    cache = PromptCache(Clock())
    _use(cache, _points("s" * 4000))
    assert _use(cache, _points("t" * 4000)) == (0, 1000)


def test_a_lookup_alone_stores_nothing() -> None:
    """A request refused (quota, capacity) never wrote its prefix."""
    cache = PromptCache(Clock())
    points = _points("s" * 4000)
    cache.lookup(points)
    assert cache.lookup(points).read_tokens == 0


def test_a_prefix_shorter_than_the_minimum_caches_nothing() -> None:
    cache = PromptCache(Clock(), min_tokens=1024)
    short = _points("s" * 4000)
    assert _use(cache, short) == (0, 0)
    assert _use(cache, short) == (0, 0)


def test_a_read_takes_off_its_prefill_never_below_the_floor() -> None:
    ttft = 400_000_000
    assert ttft_after_cache_ns(ttft, 2000, 25.0, 0.3) == ttft - 50_000_000
    assert ttft_after_cache_ns(ttft, 0, 25.0, 0.3) == ttft
    assert ttft_after_cache_ns(ttft, 100_000, 25.0, 0.3) == round(ttft * 0.3)
