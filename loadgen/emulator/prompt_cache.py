"""Prompt caching, per model: the prefixes before each cache point, kept for their TTL.

Bedrock's rules as the emulator keeps them ("Prompt caching for faster model inference",
Amazon Bedrock User Guide): a request reads the longest of its prefixes still in the cache
(cacheReadInputTokens), writes what lies beyond it up to its last cache point
(cacheWriteInputTokens), and `inputTokens` counts only the rest. A read refreshes the entry's
TTL (5 minutes, or 1 hour where the cache point asks for it). Time is the server's monotonic
clock, injected, so tests run it in virtual time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from loadgen.emulator.request_options import CachePoint


@dataclass(frozen=True)
class CacheUsage:
    read_tokens: int = 0
    write_tokens: int = 0
    points: tuple[CachePoint, ...] = ()  # stored (or refreshed) once the request is admitted


def ttft_after_cache_ns(ttft_ns: int, read_tokens: int, ms_per_1k: float, floor: float) -> int:
    """The drawn TTFT stands for an uncached prompt: a cache read skips the prefill of the
    tokens it read, never below `floor` x the draw."""
    saved = round(ms_per_1k * read_tokens / 1000 * 1_000_000)
    return max(round(ttft_ns * floor), ttft_ns - saved)


class PromptCache:
    def __init__(self, clock: Callable[[], float], min_tokens: int = 0) -> None:
        self._clock = clock
        self.min_tokens = min_tokens
        self._expiry: dict[str, float] = {}  # prefix digest -> when it leaves the cache
        self.reads = 0
        self.writes = 0

    def lookup(self, points: Sequence[CachePoint]) -> CacheUsage:
        """What a request with these cache points reads and writes; nothing is stored yet."""
        usable = tuple(point for point in points if point.tokens >= self.min_tokens)
        if not usable:
            return CacheUsage()
        now = self._clock()
        read = 0
        for point in usable:
            expiry = self._expiry.get(point.digest)
            if expiry is not None and expiry > now:
                read = max(read, point.tokens)
        written = max(point.tokens for point in usable)
        return CacheUsage(read, max(0, written - read), usable)

    def store(self, usage: CacheUsage) -> None:
        """The request was admitted: its prefixes are in the cache, each for its own TTL."""
        now = self._clock()
        for point in usage.points:
            self._expiry[point.digest] = max(self._expiry.get(point.digest, 0.0), now + point.ttl_s)
        self.reads += usage.read_tokens > 0
        self.writes += usage.write_tokens > 0
        if len(self._expiry) > 4096:  # drop what has expired, so the table stays small
            self._expiry = {key: at for key, at in self._expiry.items() if at > now}

    def stats(self) -> dict[str, int]:
        return {"entries": len(self._expiry), "reads": self.reads, "writes": self.writes}
