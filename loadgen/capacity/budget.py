"""One budget for a whole sweep (`loadgen sweep --max-cost`, or the scenario's cost.max_usd).

A sweep's stages are ordinary runs, each with its own budget guard. Given the scenario's budget
each, N stages could spend N times it; so each stage gets only what the stages before it left,
and the sweep stops (exit 3) once that is nothing. Every stage's guard keeps its spend within
what it was given (docs/pricing.md, "The budget guard"), so the sweep's spend stays within the
budget too. Preflight probes (one request of max_tokens 1 per model) are not counted.
"""

from __future__ import annotations

from typing import Any

from loadgen.report.schema import Report


class SweepBudget:
    def __init__(self, max_usd: float | None) -> None:
        self.max_usd = max_usd  # None: no budget
        self.spent_usd = 0.0  # what the stages' guards counted, warmup and cancelled included

    def stage_budget_usd(self) -> float | None:
        """What the next stage may spend: what is left of the budget."""
        return None if self.max_usd is None else self.max_usd - self.spent_usd

    def spent_all(self) -> str | None:
        """The reason to stop before the next stage, or None while money is left."""
        left = self.stage_budget_usd()
        if left is None or left > 0:
            return None
        return (
            f"sweep budget: ${self.spent_usd:.4f} of ${self.max_usd:g} spent by the stages so "
            "far; no stage can be run within it (--max-cost)"
        )

    def book(self, report: Report) -> None:
        """Add what a stage spent, as its budget guard counted it."""
        spent = report["run"]["cost"].get("spent_usd")
        if self.max_usd is not None and spent is not None:
            self.spent_usd += spent

    def to_json(self) -> dict[str, Any]:
        return {
            "max_usd": self.max_usd,
            "spent_usd": None if self.max_usd is None else round(self.spent_usd, 9),
        }
