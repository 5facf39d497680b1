"""Where an option with a fixed monthly price starts to cost no more than on-demand.

On demand, a month costs k x L at a peak of L requests/s. Provisioned Throughput costs a whole
unit's month for each unit the peak needs: flat within a unit's capacity, a step up at each
unit. The Reserved tier costs the tokens per minute reserved, never less than AWS's minimum
reservation: flat, then linear. Both are compared with on-demand on the interactive load only;
the deferrable share costs every option the same.
"""

from __future__ import annotations

import itertools
import math

EPSILON = 1e-9  # float noise: 2.0000000001 units is 2 units, not 3


def units_needed(load_tpm: tuple[float, float], unit_tpm: tuple[int, int]) -> int:
    """Model units for an input and an output rate (tokens per minute), each within what a unit
    processes of that kind."""
    return max(
        math.ceil(rate / per_unit - EPSILON) if rate > 0 else 0
        for rate, per_unit in zip(load_tpm, unit_tpm, strict=True)
    )


def provisioned_break_even(
    unit_month_usd: float, on_demand_usd_per_rps: float, unit_capacity_rps: float
) -> float | None:
    """The lowest peak (requests/s) at which Provisioned Throughput costs no more than on
    demand: one unit's month over on-demand's month per request/s, if one unit can carry that
    load. Past each further unit's capacity the bill steps up again (on demand may be cheaper
    just past a step); the first crossing is the same for every unit count, so there is
    none at all when one unit, fully used, costs more than its load on demand."""
    if on_demand_usd_per_rps <= 0:
        return None
    load = unit_month_usd / on_demand_usd_per_rps
    return load if load <= unit_capacity_rps * (1 + EPSILON) else None


def reserved_break_even(
    minimums: tuple[float, float],
    per_rps_tpm: tuple[float, float],
    prices_per_1k: tuple[float, float],
    on_demand_usd_per_rps: float,
) -> float | None:
    """The lowest peak at which the Reserved tier (input and output tokens per minute reserved,
    each at least its minimum) costs no more than on demand. Its bill less on demand's is
    convex in the load, so the loads where it is no dearer form one interval: its start."""
    breaks = sorted(
        {
            minimum / rate
            for minimum, rate in zip(minimums, per_rps_tpm, strict=True)
            if rate > 0 and minimum > 0
        }
    )
    edges = [0.0, *breaks, math.inf]
    for low, high in itertools.pairwise(edges):
        probe = (low + high) / 2 if math.isfinite(high) else low + 1.0
        fixed = 0.0  # USD a month while below a minimum
        slope = 0.0  # USD a month per request/s once above it
        for minimum, rate, price in zip(minimums, per_rps_tpm, prices_per_1k, strict=True):
            if rate * probe < minimum:
                fixed += minimum / 1000 * price
            else:
                slope += rate / 1000 * price
        # reserved - on demand = fixed + (slope - k) x load, on [low, high]
        gain = on_demand_usd_per_rps - slope
        if gain > 0:
            start = max(low, fixed / gain)
            if start <= high:
                return start
        elif fixed + (slope - on_demand_usd_per_rps) * low <= 0:
            return low
    return None
