"""A scenario's `outcomes:` section: which flagged answers count in the latency figures.

Some answers end with a stop reason that says the model did not answer as asked: a guardrail
intervened, the content was filtered, the answer was cut at max_tokens or the context window.
The report counts them per model either way (docs/metrics.md "Outcomes"); this choice says
whether their TTFT, TTLT, TPOT, ITL and throughput count beside ordinary answers. An
intervention can answer in milliseconds and make a model look faster than it is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from loadgen.config.base import StrictModel

# The stop reasons the report flags (Bedrock's StopReason values that are not a finished
# answer or a tool call).
FlaggedStopReason = Literal[
    "guardrail_intervened",
    "content_filtered",
    "max_tokens",
    "model_context_window_exceeded",
]


class OutcomeSpec(StrictModel):
    """`outcomes:` (docs/scenario.md "Outcomes")."""

    exclude_from_latency: tuple[FlaggedStopReason, ...] = Field(
        (),
        description="answers with these stop reasons are counted (requests, stop reasons, "
        "cost) but left out of the latency and throughput figures; default: none left out",
    )
