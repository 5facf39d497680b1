"""What a run took from each model's Bedrock quotas, by AWS's rules (docs/quotas.md).

A request reserves input + cache-write + max_tokens from the tokens-per-minute and -per-day
quotas when it starts, and settles to input + cache-write + output x the model's burndown rate
when it ends; cache reads never count. A request the endpoint refused (a 429 before any output)
reserved nothing. Samples are folded second by second (a few integers per second and model,
nothing per request), from which the report gets, per model and minute of the run: requests,
throttles, tokens reserved and settled and the most held at once; the peak reserved in any 60
seconds (the figure a quota increase request needs); and, against a given quota, the headroom
and the first minute in which AWS's rule would have refused a request.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from loadgen.config.quota_spec import ModelQuota, QuotaSource, quota_pool
from loadgen.core.report_parts import (
    QuotaColumns,
    QuotaLimitUse,
    QuotaMinute,
    QuotaModelSection,
    QuotaSection,
)
from loadgen.core.sample import ErrorClass, Sample
from loadgen.cost.burndown import Burndown, BurndownBook

WINDOW_S = 60  # Bedrock's token and request quotas are per minute
DAY_S = 86_400
US = 1_000_000


def reservation(input_tokens: int, cache_write_tokens: int, max_tokens: int) -> int:
    """Taken from the quotas when the request starts. The burndown rate does not multiply it."""
    return input_tokens + cache_write_tokens + max_tokens


def settlement(
    input_tokens: int, cache_write_tokens: int, output_tokens: int, burndown: float
) -> int:
    """What the request has used once it ends; cache reads do not count."""
    return input_tokens + cache_write_tokens + _ceil(output_tokens * burndown)


def _ceil(value: float) -> int:
    return -int(-value // 1)


@dataclass(frozen=True, slots=True)
class Charge:
    """One request's part: what it reserved at its start and settled to at its end."""

    reserved: int
    settled: int
    usage_known: bool


def charge(sample: Sample, max_tokens: int, burndown: float) -> Charge | None:
    """None when the request took nothing: never sent, or refused by the endpoint before any
    output. A request without usage (it failed, or the run stopped it) reserved its max_tokens
    and whatever input is known, and settled what is known."""
    if sample.error is ErrorClass.DROPPED:
        return None
    if sample.error is ErrorClass.THROTTLED and sample.first_token_us is None:
        return None
    input_tokens = sample.input_tokens or 0
    cache_write = sample.cache_write_tokens or 0
    reserved = reservation(input_tokens, cache_write, max_tokens)
    if sample.input_tokens is None or sample.output_tokens is None:
        return Charge(reserved, input_tokens + cache_write, usage_known=False)
    return Charge(
        reserved, settlement(input_tokens, cache_write, sample.output_tokens, burndown), True
    )


@dataclass
class ModelQuotaUsage:
    """One model's quota use, second by second since the run's start."""

    max_tokens: int
    burndown: Burndown
    started: Counter[int] = field(default_factory=Counter)  # requests the endpoint admitted
    refused: Counter[int] = field(default_factory=Counter)  # refused before any output
    reserved: Counter[int] = field(default_factory=Counter)  # by the second they started
    released: Counter[int] = field(default_factory=Counter)  # their reservation, by end second
    settled: Counter[int] = field(default_factory=Counter)  # by the second they ended
    usage_unknown: int = 0
    # The first second the endpoint refused a request by each quota, by its message.
    first_refused: dict[str, int] = field(default_factory=dict)

    def add(self, sample: Sample) -> None:
        start_us = sample.send_us if sample.send_us is not None else sample.dispatch_us
        start = start_us // US
        part = charge(sample, self.max_tokens, self.burndown.rate)
        if part is None:
            if sample.error is ErrorClass.THROTTLED:
                self.refused[start] += 1
                kind = refusal_kind(sample.error_message)
                if kind is not None and start < self.first_refused.get(kind, start + 1):
                    self.first_refused[kind] = start
            return
        end = max(start, (sample.end_us if sample.end_us is not None else start_us) // US)
        self.started[start] += 1
        self.reserved[start] += part.reserved
        self.released[end] += part.reserved
        self.settled[end] += part.settled
        self.usage_unknown += not part.usage_known

    def merge(self, other: ModelQuotaUsage) -> None:
        for mine, theirs in zip(self._columns(), other._columns(), strict=True):
            mine.update(theirs)
        self.usage_unknown += other.usage_unknown
        for kind, second in other.first_refused.items():
            self.first_refused[kind] = min(second, self.first_refused.get(kind, second))

    def _columns(self) -> tuple[Counter[int], ...]:
        return (self.started, self.refused, self.reserved, self.released, self.settled)

    def _seconds(self) -> int:
        last = max((max(c) for c in self._columns() if c), default=-1)
        return last + 1

    def section(
        self, model_id: str, quota: ModelQuota | None, source: QuotaSource | None
    ) -> QuotaModelSection:
        seconds = self._seconds()
        started, reserved = _dense(self.started, seconds), _dense(self.reserved, seconds)
        released, settled = _dense(self.released, seconds), _dense(self.settled, seconds)
        refused = _dense(self.refused, seconds)
        held = _held(reserved, released)
        peak_tokens, peak_at = _peak_window(reserved, WINDOW_S)
        peak_requests, _ = _peak_window(started, WINDOW_S)
        limits: dict[str, QuotaLimitUse] = {}
        if quota is not None and source is not None:
            if quota.tpm is not None:
                ran_out = _ran_out(quota.tpm, WINDOW_S, reserved, released, settled)
                limits["tpm"] = _limit_use(
                    quota.tpm, source, peak_tokens, self._earliest("tpm", ran_out)
                )
            if quota.tpd is not None:
                day_peak, _ = _peak_window(reserved, DAY_S)
                ran_out = _ran_out(quota.tpd, DAY_S, reserved, released, settled)
                limits["tpd"] = _limit_use(
                    quota.tpd, source, day_peak, self._earliest("tpd", ran_out)
                )
            if quota.rpm is not None:
                none = [0] * seconds
                ran_out = _ran_out(quota.rpm, WINDOW_S, started, none, none)
                limits["rpm"] = _limit_use(
                    quota.rpm, source, peak_requests, self._earliest("rpm", ran_out)
                )
        return {
            "pool": quota_pool(model_id),
            "burndown": self.burndown.rate,
            "burndown_from": self.burndown.catalogue_id,
            "max_tokens": self.max_tokens,
            "requests": sum(started),
            "throttled": sum(refused),
            "usage_unknown": self.usage_unknown,
            "first_refused_s": dict(self.first_refused),
            "reserved_tokens": sum(reserved),
            "settled_tokens": sum(settled),
            "peak_reserved_per_minute": peak_tokens,
            "peak_minute_start_s": None if peak_at is None else max(0, peak_at - WINDOW_S + 1),
            "peak_requests_per_minute": peak_requests,
            "limits": limits,
            "minutes": _minutes(started, refused, reserved, settled, held),
            "seconds": {
                "started": started,
                "refused": refused,
                "reserved": reserved,
                "released": released,
                "settled": settled,
            },
        }

    def _earliest(self, kind: str, simulated: int | None) -> int | None:
        """The minute a quota ran out: when the endpoint first refused a request by it, or when
        AWS's rule with the given limit would have, whichever came first."""
        minutes = [
            m for m in (simulated, _minute_of(self.first_refused.get(kind))) if m is not None
        ]
        return min(minutes, default=None)

    @classmethod
    def from_section(cls, data: QuotaModelSection) -> ModelQuotaUsage:
        """Back from a report's section (to merge workers' reports)."""
        usage = cls(
            data["max_tokens"],
            Burndown(data["burndown"], data["burndown_from"], None),
            usage_unknown=data["usage_unknown"],
            first_refused=dict(data["first_refused_s"]),
        )
        columns: QuotaColumns = data["seconds"]
        dense = (
            columns["started"],
            columns["refused"],
            columns["reserved"],
            columns["released"],
            columns["settled"],
        )  # in _columns()'s order
        for mine, values in zip(usage._columns(), dense, strict=True):
            mine.update({second: value for second, value in enumerate(values) if value})
        return usage


class QuotaUsage:
    """Every model's quota use in a run: fed every Sample (warmup included: the account's
    quota counts every request), reported per model against the quotas given for it."""

    def __init__(
        self,
        max_tokens: Mapping[str, int],
        limits: Mapping[str, ModelQuota] | None = None,
        sources: Mapping[str, QuotaSource] | None = None,
        book: BurndownBook | None = None,
    ) -> None:
        self._book = book if book is not None else BurndownBook.builtin()
        self._max_tokens = dict(max_tokens)
        self.limits = dict(limits or {})
        self.sources = dict(sources or {})
        self.models: dict[str, ModelQuotaUsage] = {}
        for model_id, tokens in self._max_tokens.items():
            self.models[model_id] = ModelQuotaUsage(tokens, self._book.resolve(model_id))

    def add(self, sample: Sample) -> None:
        usage = self.models.get(sample.model)
        if usage is not None:  # a model the scenario does not run is no quota's
            usage.add(sample)

    def section(self) -> QuotaSection:
        return quota_section(self.models, self.limits, self.sources)


def quota_section(
    models: Mapping[str, ModelQuotaUsage],
    limits: Mapping[str, ModelQuota],
    sources: Mapping[str, QuotaSource],
) -> QuotaSection:
    return {
        "window_s": WINDOW_S,
        "models": {
            model_id: usage.section(model_id, limits.get(model_id), sources.get(model_id))
            for model_id, usage in models.items()
        },
    }


def merge_quota_sections(sections: Iterable[QuotaSection]) -> QuotaSection:
    """One section from several reports of the same run (workers' shares, merged runs): the
    seconds added up, everything else computed again from them, against the quotas the first
    report that gives one says."""
    merged: dict[str, ModelQuotaUsage] = {}
    limits: dict[str, ModelQuota] = {}
    sources: dict[str, QuotaSource] = {}
    for section in sections:
        for model_id, data in section["models"].items():
            usage = ModelQuotaUsage.from_section(data)
            if model_id in merged:
                merged[model_id].merge(usage)
            else:
                merged[model_id] = usage
            given = data["limits"]
            if given and model_id not in limits:
                limits[model_id] = ModelQuota.model_validate(
                    {name: use["limit"] for name, use in given.items()}
                )
                sources[model_id] = next(iter(given.values()))["source"]
    return quota_section(merged, limits, sources)


def refusal_kind(message: str | None) -> str | None:
    """Which quota a 429 names, by Bedrock's messages: "Too many tokens per day", "Too many
    tokens", "Too many requests" (please wait before trying again)."""
    text = (message or "").lower()
    if "per day" in text:
        return "tpd"
    if "tokens" in text:
        return "tpm"
    if "requests" in text:
        return "rpm"
    return None


def _minute_of(second: int | None) -> int | None:
    return None if second is None else second // WINDOW_S


def _dense(counter: Counter[int], seconds: int) -> list[int]:
    return [counter.get(second, 0) for second in range(seconds)]


def _held(reserved: list[int], released: list[int]) -> list[int]:
    """Tokens held by requests in flight at the end of each second."""
    held, level = [], 0
    for taken, back in zip(reserved, released, strict=True):
        level += taken - back
        held.append(level)
    return held


def _peak_window(values: list[int], window_s: int) -> tuple[int, int | None]:
    """The largest sum over any `window_s` consecutive seconds, and the last second of the
    first window that reaches it (None when nothing was taken)."""
    best, best_at, running = 0, None, 0
    for second, value in enumerate(values):
        running += value
        if second >= window_s:
            running -= values[second - window_s]
        if running > best:
            best, best_at = running, second
    return best, best_at


def _ran_out(
    limit: int, period_s: int, taken: list[int], released: list[int], settled: list[int]
) -> int | None:
    """The first minute (0-based, from the run's start) in which a bucket of `limit` per
    `period_s`, full at the start and refilling continuously (the emulator's model of Bedrock's
    quota), could not cover what was taken in a second: AWS's rule would have refused a
    request then. Settlement gives back (or takes) what each request's end changed."""
    rate = limit / period_s
    level = float(limit)
    for second, need in enumerate(taken):
        if second:
            level = min(float(limit), level + rate)
        if need > level:
            return second // WINDOW_S
        level = min(float(limit), level - need + released[second] - settled[second])
    return None


def _limit_use(
    limit: int, source: QuotaSource, peak: int, ran_out_minute: int | None
) -> QuotaLimitUse:
    return {
        "limit": limit,
        "source": source,
        "peak": peak,
        "headroom": limit - peak,
        "headroom_share": round((limit - peak) / limit, 4),
        "ran_out_minute": ran_out_minute,
    }


def _minutes(
    started: list[int], refused: list[int], reserved: list[int], settled: list[int], held: list[int]
) -> list[QuotaMinute]:
    minutes: list[QuotaMinute] = []
    for start in range(0, len(started), WINDOW_S):
        span = slice(start, start + WINDOW_S)
        minutes.append(
            {
                "minute": start // WINDOW_S,
                "requests": sum(started[span]),
                "throttled": sum(refused[span]),
                "reserved_tokens": sum(reserved[span]),
                "settled_tokens": sum(settled[span]),
                "peak_held_tokens": max(held[span]),
            }
        )
    return minutes
