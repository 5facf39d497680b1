"""What a whole run cost: every request it sent, whichever figures it is counted in.

The per-model cost figures describe the measured requests only, as every other figure does.
The bill is more: warmup requests are billed, and so are requests in flight when the run
stopped (cancelled). This sum is the run's "cost of this run" (report `run.cost.spend`).
"""

from __future__ import annotations

from loadgen.core.report_parts import RunSpendSummary
from loadgen.core.sample import ErrorClass, Sample


class RunSpend:
    def __init__(self) -> None:
        self.measured_usd = 0.0
        self.warmup_usd = 0.0
        self.cancelled_usd = 0.0
        self.cancelled_requests = 0
        self.unpriced_requests = 0  # billed for an unknown amount, or the model has no price

    def add(self, sample: Sample) -> None:
        """Book one finished request, priced (sample.cost_usd) or not."""
        cancelled = sample.error is ErrorClass.CANCELLED and not sample.warmup
        self.cancelled_requests += cancelled
        cost = sample.cost_usd
        if cost is None:
            # A dropped request was never sent: it costs nothing, priced or not.
            self.unpriced_requests += sample.error is not ErrorClass.DROPPED
        elif sample.warmup:
            self.warmup_usd += cost
        elif cancelled:
            self.cancelled_usd += cost
        else:
            self.measured_usd += cost

    def summary(self) -> RunSpendSummary:
        total = self.measured_usd + self.warmup_usd + self.cancelled_usd
        return {
            "total_usd": round(total, 9),
            "measured_usd": round(self.measured_usd, 9),
            "warmup_usd": round(self.warmup_usd, 9),
            "cancelled_usd": round(self.cancelled_usd, 9),
            "cancelled_requests": self.cancelled_requests,
            "unpriced_requests": self.unpriced_requests,
        }


def merged_spend(parts: list[RunSpendSummary]) -> RunSpendSummary:
    """The spend of runs taken together (worker shares, merged reports)."""
    spend = RunSpend()
    for part in parts:
        spend.measured_usd += part["measured_usd"]
        spend.warmup_usd += part["warmup_usd"]
        spend.cancelled_usd += part["cancelled_usd"]
        spend.cancelled_requests += part["cancelled_requests"]
        spend.unpriced_requests += part["unpriced_requests"]
    return spend.summary()


def spend_line(spend: RunSpendSummary | None) -> str:
    """One line for people: the run's bill, its parts when there is more than the measured
    requests, and how many requests were billed for an amount nobody knows. None: a report
    from before schema_version 3, which did not record it."""
    if spend is None:
        return "cost of this run: not recorded (a report older than schema_version 3)"
    line = f"cost of this run: ${spend['total_usd']:,.6f}"
    parts = [
        f"{name} ${usd:,.6f}"
        for name, usd in (("warmup", spend["warmup_usd"]), ("cancelled", spend["cancelled_usd"]))
        if usd
    ]
    if parts:
        line += f" (measured ${spend['measured_usd']:,.6f}, {', '.join(parts)})"
    unknown = spend["unpriced_requests"]
    if unknown:
        line += f"; {unknown} request{'s' * (unknown != 1)} billed for an unknown amount, not in it"
    return line
