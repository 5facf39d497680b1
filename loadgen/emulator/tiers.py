"""Service tiers (priority, default, flex; reserved served as default): how fast each is
served, and who is refused first when a model runs out of capacity.

Speed: priority multiplies the drawn TTFT and every gap by the profile's `priority_speed`
(0.8), flex by `flex_speed` (1.5). AWS says priority gives "up to 25% better output tokens per
second" and flex "may see increased latency" (Amazon Bedrock service tiers page).

Shedding, with a queue limit Q (capacity.queue_limit) on a model whose slots are all busy:
flex is refused (429 ThrottlingException) once the queue holds `flex_shed_fraction` x Q
requests; default and reserved once it holds Q (503, as without tiers); priority may queue
`priority_headroom` x Q beyond Q before it is refused, and waits ahead of every other tier.
So near saturation flex goes first and priority last. Without a queue limit nothing is shed.
"""

from __future__ import annotations

import math

from loadgen.emulator.request_options import ServiceTier

FLEX_SHED_MESSAGE = "Too many requests, please wait before trying again."


def speed_factor(tier: ServiceTier | None, priority_speed: float, flex_speed: float) -> float:
    if tier == "priority":
        return priority_speed
    if tier == "flex":
        return flex_speed
    return 1.0


def queue_limit_for(
    tier: ServiceTier | None,
    queue_limit: int | None,
    flex_shed_fraction: float,
    priority_headroom: float,
) -> int | None:
    """How many may wait ahead of a request of this tier before it is refused (None: no
    limit)."""
    if queue_limit is None:
        return None
    if tier == "flex":
        return math.floor(queue_limit * flex_shed_fraction)
    if tier == "priority":
        return queue_limit + math.ceil(queue_limit * priority_headroom)
    return queue_limit
