"""Where in its second a call logged to the second is replayed.

Bedrock's invocation logs give `timestamp` to the second, so every call of a second would
otherwise leave at once, a burst the real traffic did not have. The rule (docs/replay.md,
report.json's `replay.spreading`): the n records that share a logged second are spaced evenly
across it, in log order, all shifted by one fraction u of the spacing, drawn for that second
from the run's seed: record k (from 0) of second S is at S + (k + u) / n seconds. Evenly, so a
second's count is kept and no burst is made inside it; u, so that no second's first call falls
on its whole second; seeded per second, so the same seed gives the same instants whatever the
window or the other seconds hold."""

from __future__ import annotations

import random
from collections import defaultdict

from loadgen.replay.records import ReplayRecord

SPREADING_RULE = (
    "the n records logged in the same second are spaced evenly across it in log order, "
    "shifted by one fraction u of the spacing drawn per second from the run's seed: record k "
    "of n in second S is at S + (k + u) / n s"
)
_SECOND_US = 1_000_000


def spread_instants(records: list[ReplayRecord], seed: int) -> list[int]:
    """Each record's instant (µs since the epoch), in the order given; a record logged below
    the second keeps its own."""
    instants = [record.unix_us for record in records]
    seconds: dict[int, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        if record.whole_second:
            seconds[record.unix_us // _SECOND_US].append(index)
    for second, members in seconds.items():
        u = random.Random(f"replay-spread:{seed}:{second}").random()
        count = len(members)
        for k, index in enumerate(members):
            instants[index] = second * _SECOND_US + round((k + u) * _SECOND_US / count)
    return instants


def spread_seconds(records: list[ReplayRecord]) -> int:
    """How many logged seconds were spread (for the report)."""
    return len({record.unix_us // _SECOND_US for record in records if record.whole_second})
