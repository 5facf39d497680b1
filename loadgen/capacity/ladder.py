"""Which rate a sweep tries next: the given ladder, or a search for the highest good rate.

Search: probe geometrically (start_rate, then times factor) until a stage is not good (saturated or
an SLO missed) or max_rate is reached, then bisect (geometric mean) between the highest good
rate and the lowest bad one until they are within `precision` of each other. A pure object of
(rate, good?) records, so its choices are tested without running anything.
"""

from __future__ import annotations

import math

from loadgen.config.scenario import SweepSpec


def _round(rate: float) -> float:
    """Three significant figures: stage folders and tables stay readable."""
    return float(f"{rate:.3g}")


class Ladder:
    def __init__(self, settings: SweepSpec) -> None:
        self._settings = settings
        self._given = sorted(settings.rates) if settings.rates else None
        self._good: list[float] = []
        self._bad: list[float] = []
        self._saturated = False
        self.stopped_because: str | None = None

    def record(self, rate: float, *, meets_slos: bool, saturated: bool) -> None:
        (self._good if meets_slos and not saturated else self._bad).append(rate)
        self._saturated = self._saturated or saturated

    def next_rate(self) -> float | None:
        rate = self._next()
        if rate is not None and len(self._good) + len(self._bad) >= self._settings.max_stages:
            self.stopped_because = f"max_stages ({self._settings.max_stages}) reached"
            return None
        return rate

    def _next(self) -> float | None:
        tested = len(self._good) + len(self._bad)
        if self._given is not None:
            if self._saturated:
                left = len(self._given) - tested
                self.stopped_because = f"saturated; {left} higher rate(s) of the ladder skipped"
                return None
            if tested == len(self._given):
                self.stopped_because = "every rate of the ladder was run"
                return None
            return self._given[tested]
        settings = self._settings
        if not self._bad:
            if not self._good:
                return _round(min(settings.start_rate, settings.max_rate))
            highest = max(self._good)
            if highest >= settings.max_rate:
                self.stopped_because = f"max_rate ({settings.max_rate:g} req/s) met every SLO"
                return None
            return _round(min(highest * settings.factor, settings.max_rate))
        low_bad = min(self._bad)
        good_below = [r for r in self._good if r < low_bad]
        if not good_below:
            lowest = low_bad / settings.factor
            if lowest < settings.start_rate / settings.factor**3:
                self.stopped_because = "no rate met the SLOs, down to start_rate / factor³"
                return None
            return _round(lowest)
        high_good = max(good_below)
        if (low_bad - high_good) / high_good <= settings.precision:
            self.stopped_because = (
                f"bracketed: {high_good:g} req/s good, {low_bad:g} not (within "
                f"{settings.precision:.0%})"
            )
            return None
        middle = _round(math.sqrt(high_good * low_bad))
        if middle in (high_good, low_bad):  # three figures cannot split it further
            self.stopped_because = f"bracketed: {high_good:g} req/s good, {low_bad:g} not"
            return None
        return middle
