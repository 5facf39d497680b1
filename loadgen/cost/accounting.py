"""What the requests of a run cost: per request, summed per model, projected, and capped.

Everything here is pure arithmetic on token counts and `ResolvedPrice`s; nothing is sent.
docs/pricing.md states the billing rule and the budget guard's guarantee.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from enum import StrEnum

from loadgen.config.scenario import HOURS_PER_MONTH
from loadgen.core.histogram import Histogram
from loadgen.core.report_parts import CostProjection, CostSummary
from loadgen.core.sample import ErrorClass, Sample
from loadgen.cost.pricing import RESPONSE_TIERS, Rates, ResolvedPrice, Tier

TOKENS_PER_PRICE_UNIT = 1_000_000  # prices are USD per 1M tokens

# The cost distribution is kept in integer nano-dollars, not micro-dollars: a short Nova Micro
# request costs about 10 micro-dollars, where rounding to whole micro-dollars would err by up to
# 5 %, far above HDR's 0.1 % (3 significant digits). Means and totals come from exact float sums.
UNITS_PER_USD = 1_000_000_000
COST_MAX_USD = 100  # per request; a dearer one is counted as out of range, not recorded
PERCENTILES = {"p50": 50.0, "p99": 99.0}
HOUR_S = 3600


class Billing(StrEnum):
    NOT_BILLED = "not_billed"
    BILLED = "billed"
    UNKNOWN = "unknown"  # tokens were consumed, but no usage says how many


def billing(
    error_class: str | None,
    output_tokens: int | None,
    input_tokens: int | None,
    *,
    stream_started: bool | None = None,
) -> Billing:
    """Whether a request is billed. Token counts are the server's usage; None where it gave none.

    `stream_started` says whether any content came back; by default, whether usage reports
    output tokens. A request that failed before its stream began (throttled, rejected, a 5xx or
    a timeout before any byte) or was never sent (dropped) did not run the model and is not
    billed. One that failed midway has consumed tokens: it is billed for what usage says.
    """
    if error_class == ErrorClass.DROPPED:
        return Billing.NOT_BILLED
    if error_class is not None:
        started = bool(output_tokens) if stream_started is None else stream_started
        if not started:
            return Billing.NOT_BILLED
    if input_tokens is None or output_tokens is None:
        return Billing.UNKNOWN
    return Billing.BILLED


def is_billed(
    error_class: str | None,
    output_tokens: int | None,
    input_tokens: int | None,
    *,
    stream_started: bool | None = None,
) -> bool:
    status = billing(error_class, output_tokens, input_tokens, stream_started=stream_started)
    return status is not Billing.NOT_BILLED


def request_cost(
    price: ResolvedPrice,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
) -> float:
    """USD, at the standard tier. Bedrock's usage.inputTokens counts only input neither read
    from nor written to the prompt cache; cacheReadInputTokens and cacheWriteInputTokens come on
    top of it. (AWS prompt caching guide: tokens "not read from or written to cache are charged
    at the standard input token rate"; the TokenUsage reference lists the three as separate
    counts.) So the three are priced separately and summed, never subtracted from one another.
    The OpenAI backend normalises its usage to the same three counts
    (loadgen/backends/openai_chat.py).

    A model with long-context rates bills the whole request at them once its input, the three
    kinds together, is above the threshold (Claude Sonnet 4 and 4.5: 200K tokens)."""
    counts = (input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
    if min(counts) < 0:
        raise ValueError(f"token counts must be >= 0, got {counts}")
    rates = price.prices.rates_for(input_tokens + cache_read_tokens + cache_write_tokens)
    return tokens_cost(rates, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)


def tier_request_cost(
    price: ResolvedPrice,
    tier: Tier,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
) -> float | None:
    """USD for a request served by `tier` (a response's serviceTier): the standard tier as
    `request_cost`, another at its own rates, the Reserved tier at nothing (the reservation is
    billed by the month); None when the catalogue has no rates for that tier (an unknown
    amount, never a guess)."""
    if tier is Tier.STANDARD:
        return request_cost(
            price,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cache_read_tokens=cache_read_tokens,
            cache_write_tokens=cache_write_tokens,
        )
    rates = price.prices.tier_rates(tier, input_tokens + cache_read_tokens + cache_write_tokens)
    if rates is None:
        return None
    return tokens_cost(rates, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)


def tokens_cost(
    rates: Rates,
    input_tokens: float,
    output_tokens: float,
    cache_read_tokens: float = 0,
    cache_write_tokens: float = 0,
) -> float:
    """USD for these token counts at these rates (counts may be means: `loadgen plan`)."""
    # A model without a cache price that still reports cache tokens is charged the plain input
    # rate for them: the safe side of an unknown discount. Usage does not say whether a write
    # was for 5 minutes or an hour: it is billed at the 5-minute rate.
    cache_read = rates.input if rates.cache_read is None else rates.cache_read
    cache_write = rates.input if rates.cache_write is None else rates.cache_write
    total = (
        input_tokens * rates.input
        + output_tokens * rates.output
        + cache_read_tokens * cache_read
        + cache_write_tokens * cache_write
    )
    return total / TOKENS_PER_PRICE_UNIT


def sample_cost(price: ResolvedPrice | None, sample: Sample) -> float | None:
    """A Sample's cost in USD: 0.0 when not billed, None when billed for an unknown amount or
    the model has no price."""
    estimated = sample.tokens_estimated
    input_tokens = None if estimated else sample.input_tokens
    output_tokens = None if estimated else sample.output_tokens
    # A request that timed out, lost its connection or was cancelled after it was sent most
    # likely reached the model: with no usage to say what it cost, its cost is unknown, not zero.
    reached_model = sample.send_us is not None and sample.error in (
        ErrorClass.TIMEOUT,
        ErrorClass.CONNECTION,
        ErrorClass.CANCELLED,  # the run stopped while it was in flight
    )
    started = (
        sample.first_token_us is not None
        or sample.deltas > 0
        or bool(output_tokens)
        or reached_model
    )
    status = billing(sample.error, output_tokens, input_tokens, stream_started=started)
    if status is Billing.NOT_BILLED:
        return 0.0
    if price is None or input_tokens is None or output_tokens is None:
        return None
    # Billed at the tier the response says served it; a response that names none was served
    # by the standard tier, and a tier this loadgen does not know has an unknown price.
    served_by = sample.service_tier
    tier = Tier.STANDARD if served_by is None else RESPONSE_TIERS.get(served_by)
    if tier is None:
        return None
    return tier_request_cost(
        price,
        tier,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=sample.cache_read_tokens or 0,
        cache_write_tokens=sample.cache_write_tokens or 0,
    )


class CostStats:
    """One model's cost over a run: exact totals plus an HDR distribution of cost per request."""

    def __init__(self) -> None:
        self.total_usd = 0.0
        self.count = 0  # requests added
        self.unpriced = 0  # billed for an unknown amount, or the model has no price
        self.ok = 0
        # Unbilled requests cost exactly 0, which HDR cannot hold (its floor is 1): counted here.
        self.zero = 0
        self.histogram = Histogram(COST_MAX_USD * UNITS_PER_USD)

    def add(self, cost_usd: float | None, ok: bool) -> None:
        self.count += 1
        self.ok += ok
        if cost_usd is None:
            self.unpriced += 1
            return
        if not math.isfinite(cost_usd) or cost_usd < 0:
            raise ValueError(f"a cost must be a finite amount >= 0, got {cost_usd!r}")
        self.total_usd += cost_usd
        units = round(cost_usd * UNITS_PER_USD)
        if units == 0:
            self.zero += 1
        else:
            self.histogram.record(units)

    def merge(self, other: CostStats) -> None:
        self.total_usd += other.total_usd
        self.count += other.count
        self.unpriced += other.unpriced
        self.ok += other.ok
        self.zero += other.zero
        self.histogram.merge(other.histogram)

    @property
    def priced(self) -> int:
        return self.count - self.unpriced

    @property
    def mean_usd(self) -> float | None:
        return self.total_usd / self.priced if self.priced else None

    def percentile_usd(self, percentile: float) -> float | None:
        recorded = self.histogram.count
        population = self.zero + recorded  # out-of-range costs are in neither
        if population == 0:
            return None
        rank = percentile / 100 * population
        if rank <= self.zero:
            return 0.0
        if recorded == 0:
            return None
        within = min(100.0, (rank - self.zero) / recorded * 100)
        return float(self.histogram.hdr.get_value_at_percentile(within)) / UNITS_PER_USD

    def summary(
        self,
        window_s: float | None,
        ok_requests: int,
        tested_rps: float | None,
        project_rps: float | None,
        hours_per_month: float = HOURS_PER_MONTH,
    ) -> CostSummary:
        """Totals, cost per request sent and per request answered, and spend projected at the
        tested and a chosen rate.

        Per sent request, unbilled requests (throttled, refused) count as 0; per answered
        request, the whole spend, failures' included, is divided among the successes: what one
        answer costs, which is what a team budgets (at 50 % throttling it is twice the former).
        A projection is the mean cost per request sent times the request rate times the period.
        Without `tested_rps`, the rate is the requests added over `window_s`.
        """
        mean = self.mean_usd
        if tested_rps is None and window_s:
            tested_rps = self.count / window_s
        per_answered = self.total_usd / ok_requests if ok_requests > 0 and self.priced else None
        return {
            "total_usd": round(self.total_usd, 9),
            "requests": self.count,
            "priced_requests": self.priced,
            "unpriced_requests": self.unpriced,
            "out_of_range": self.histogram.out_of_range,
            "per_sent_request": {
                "mean": _usd(mean),
                "p50": _usd(self.percentile_usd(PERCENTILES["p50"])),
                "p99": _usd(self.percentile_usd(PERCENTILES["p99"])),
            },
            "per_1k_sent_usd": _usd(None if mean is None else mean * 1000),
            "per_1k_answered_usd": _usd(None if per_answered is None else per_answered * 1000),
            "observed_per_hour": _usd(
                self.total_usd / window_s * 3600 if window_s and self.priced else None
            ),
            "projection": {
                "hours_per_month": hours_per_month,
                "at_tested_rps": _projection(mean, tested_rps, hours_per_month),
                "at_project_rps": _projection(mean, project_rps, hours_per_month),
            },
        }


def _projection(
    mean_usd: float | None, rps: float | None, hours_per_month: float
) -> CostProjection | None:
    if mean_usd is None or rps is None:
        return None
    per_hour = mean_usd * rps * HOUR_S
    return {
        "rps": rps,
        "per_hour": round(per_hour, 9),
        "per_day": round(per_hour * 24, 9),
        "per_month": round(per_hour * hours_per_month, 9),
    }


def _usd(value: float | None) -> float | None:
    return None if value is None else round(value, 9)


class BudgetGuard:
    """Stops sending before a run's spend could pass `max_usd`.

    Each request reserves its worst-case cost before it is sent and gives the reservation back
    when its actual cost is known. A request is allowed only if what is spent, plus every
    in-flight reservation, plus its own worst case stays within the budget; so as long as no
    request costs more than its worst case, the spend never passes the budget.
    """

    def __init__(self, max_usd: float) -> None:
        if not math.isfinite(max_usd) or max_usd < 0:
            raise ValueError(f"a budget must be a finite amount >= 0, got {max_usd!r}")
        self.max_usd = max_usd
        self.spent_usd = 0.0
        self._reserved: dict[Hashable, float] = {}
        self._in_flight_usd = 0.0  # kept as a running sum: allows() runs once per request

    @property
    def in_flight_usd(self) -> float:
        return self._in_flight_usd

    @property
    def remaining_usd(self) -> float:
        return self.max_usd - self.spent_usd - self._in_flight_usd

    def allows(self, next_worst_case_usd: float) -> bool:
        return self.spent_usd + self._in_flight_usd + next_worst_case_usd <= self.max_usd

    def reserve(self, request_id: Hashable, worst_case_usd: float) -> None:
        if request_id in self._reserved:
            raise ValueError(f"request {request_id!r} already holds a reservation")
        if not math.isfinite(worst_case_usd) or worst_case_usd < 0:
            raise ValueError(f"a reservation must be a finite amount >= 0, got {worst_case_usd!r}")
        self._reserved[request_id] = worst_case_usd
        self._in_flight_usd += worst_case_usd

    def try_reserve(self, request_id: Hashable, worst_case_usd: float) -> bool:
        if not self.allows(worst_case_usd):
            return False
        self.reserve(request_id, worst_case_usd)
        return True

    def release(self, request_id: Hashable) -> float:
        """Gives back a reservation; returns it (0.0 if there was none, so error paths can call
        it unconditionally)."""
        amount = self._reserved.pop(request_id, 0.0)
        # Reset to exactly 0 when nothing is in flight, so float drift cannot accumulate.
        self._in_flight_usd = self._in_flight_usd - amount if self._reserved else 0.0
        return amount

    def spent(self, cost_usd: float) -> None:
        if not math.isfinite(cost_usd) or cost_usd < 0:
            raise ValueError(f"a cost must be a finite amount >= 0, got {cost_usd!r}")
        self.spent_usd += cost_usd

    def settle(self, request_id: Hashable, cost_usd: float | None) -> None:
        """Release a request's reservation and book its cost; an unknown cost (None) books the
        reservation itself, the most the request could have cost."""
        reserved = self.release(request_id)
        self.spent(reserved if cost_usd is None else cost_usd)
