"""Guardrail interventions: with a guardrail in the request, `guardrail_intervention_rate` of
answers are stopped part-way by it. The text written so far stays, the guardrail's blocked
message ends the answer, and the stop reason is `guardrail_intervened`. With trace enabled the
assessment comes back in the shape of the service model's GuardrailTraceAssessment (Converse
`trace.guardrail`; InvokeModel bodies `amazon-bedrock-trace.guardrail`, beside
`amazon-bedrock-guardrailAction`)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from loadgen.emulator.request_options import GuardrailAsk

# A guardrail's default blocked-output message in the Bedrock console.
BLOCKED_MESSAGE = "Sorry, the model cannot answer this question."
PROCESSING_LATENCY_MS = 90  # guardrailProcessingLatency reported per assessment


@dataclass(frozen=True)
class GuardrailOutcome:
    ask: GuardrailAsk
    intervened: bool
    kept_deltas: int  # answer deltas written before the intervention


def draw_guardrail(
    ask: GuardrailAsk, rate: float, deltas: int, rng: random.Random
) -> GuardrailOutcome:
    intervened = rng.random() < rate
    kept = rng.randint(0, deltas // 2) if intervened else deltas
    return GuardrailOutcome(ask, intervened, kept)


def trace(outcome: GuardrailOutcome, answer_chars: int) -> dict[str, Any]:
    """GuardrailTraceAssessment: the output assessment of this guardrail, a content filter that
    blocked when it intervened, none detected when it did not."""
    filters = (
        [
            {
                "type": "VIOLENCE",
                "confidence": "HIGH",
                "filterStrength": "HIGH",
                "action": "BLOCKED",
                "detected": True,
            }
        ]
        if outcome.intervened
        else []
    )
    assessment = {
        "contentPolicy": {"filters": filters},
        "invocationMetrics": {
            "guardrailProcessingLatency": PROCESSING_LATENCY_MS,
            "usage": {"contentPolicyUnits": max(1, -(-answer_chars // 1000))},
            "guardrailCoverage": {
                "textCharacters": {"guarded": answer_chars, "total": answer_chars}
            },
        },
    }
    result: dict[str, Any] = {"outputAssessments": {outcome.ask.identifier: [assessment]}}
    if outcome.intervened:
        result["modelOutput"] = []
        result["actionReason"] = "Guardrail blocked."
    return result
