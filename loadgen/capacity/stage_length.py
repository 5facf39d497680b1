"""How long a sweep stage runs: long enough to hold the requests its throughput is judged on.

A stage is called saturated on throughput only when the upper bound of the 95 % interval of
its completion rate is below `min_throughput_share` (90 %) of the offered rate (judging.py),
so Poisson noise never makes a knee, however short the stage: the interval widens instead. A
minimum count only buys the rule power. At 100 requests the interval is 81 to 122 (about
±20 %): a stage that delivers 71 of 100 or fewer is told from one that keeps up; one that
delivers 80 % is not, by this rule: a queue that grows through the stage shows in the TTFT
rule whatever the count, and a quota is judged on its minute, not on counts
(quota_window.py). 400 requests would tell 80 % (320: upper bound 359 < 360), but at the low
rates a search starts from they made the README's sweep of 20 s stages last most of an hour
(1 req/s: 400 s). So a stage whose `stage_duration` x rate promises fewer than 100 requests
runs longer, with a warning; --min-stage-requests sets another number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from loadgen.report.html.tables import fmt

MIN_STAGE_REQUESTS = 100


@dataclass(frozen=True)
class StageLength:
    """The measured duration a stage runs, and the one the scenario asked for."""

    rate: float
    asked_s: float
    duration_s: float
    min_requests: int

    @property
    def lengthened(self) -> bool:
        return self.duration_s > self.asked_s

    def warning(self) -> str | None:
        if not self.lengthened:
            return None
        return (
            f"{fmt(self.asked_s)} s at {fmt(self.rate)} req/s offers about "
            f"{fmt(round(self.asked_s * self.rate))} requests, fewer than the "
            f"{fmt(self.min_requests)} a stage needs to judge its throughput (docs/sweep.md): "
            f"the stage runs {fmt(self.duration_s)} s"
        )


def stage_length(rate: float, asked_s: float, min_requests: int) -> StageLength:
    """`asked_s`, or the whole seconds that offer `min_requests` at `rate` if that is longer."""
    if rate <= 0:
        raise ValueError(f"a stage rate is above 0, got {rate}")
    needed_s = float(math.ceil(min_requests / rate - 1e-9))  # 100 / 10 is 10 s, not 11
    return StageLength(rate, asked_s, max(asked_s, needed_s), min_requests)
