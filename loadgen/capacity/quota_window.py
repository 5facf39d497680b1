"""Does a sweep stage's rate fit the quota it knows, judged on whole quota windows?

Bedrock's quotas are per minute, and a stage shorter than a minute cannot run into one: the
README's 20 s stages at 64 req/s sent 1,600 requests against a quota of 2,000 a minute and
"met SLOs" at twice the rate the quota holds. Nor can a stage of a minute or two, when the
quota is a token bucket that starts full (the emulator's, and AWS's as far as it says): a
fresh bucket holds a whole minute's quota besides what refills, so a stage at 1.9x the quota
runs a minute without a 429. So where the quota is known, a stage is judged on what its rate
would take from it in every minute, steadily, projected from what the stage's requests took
(docs/sweep.md, "Quota windows"):

- settled tokens a minute: rate x 60 x (input + cache write + output x burndown) per request.
  Settlement gives back what a reservation held beyond use, so this is what a steady rate
  drains from a tokens-per-minute quota; above the quota, a long enough run is throttled.
- tokens held at once: the requests in flight (rate x their time in flight, Little's law)
  each hold input + max_tokens from their start to their end; more than a minute's quota
  and requests are refused however little they settle (AWS's "TPM / (input + max_tokens)
  requests at once", docs/quotas.md).
- requests a minute, where an RPM quota applies: rate x 60.

Reserved tokens a minute (rate x 60 x (input + max_tokens)) are reported beside them: what
the reservations take before settlement gives the unused part back.

Without a known quota, a stage of at least a minute is judged on the throttles it saw in
whole minutes; a shorter one on latency alone, and the verdict says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from loadgen.report.html.tables import fmt

WINDOW_S = 60.0  # Bedrock's TPM and RPM quotas are per minute
WindowRule = Literal["whole minute", "projected per minute", "latency only"]
WHOLE_MINUTE: WindowRule = "whole minute"
PROJECTED: WindowRule = "projected per minute"
LATENCY_ONLY: WindowRule = "latency only"
QUOTA_UNKNOWN_SHORT = (
    "latency only; quota not known — a stage shorter than a minute cannot show a per-minute quota"
)
QUOTA_UNKNOWN_LONG = "quota not known: judged on the throttles of whole minutes"


@dataclass(frozen=True)
class KnownQuota:
    """The per-minute quotas a stage is set against; None where not known or not limited."""

    tpm: int | None = None
    rpm: int | None = None
    source: str | None = None  # emulator | scenario | account

    @property
    def known(self) -> bool:
        return bool(self.tpm or self.rpm)

    def to_json(self) -> dict[str, Any]:
        return {"tpm": self.tpm, "rpm": self.rpm, "source": self.source}


@dataclass(frozen=True)
class StageQuotaUse:
    """What the stage's requests took from the quota, per request, and for how long."""

    rate: float  # req/s, the stage's rate
    duration_s: float | None  # measured seconds the stage ran
    reserved_per_request: float | None  # input + cache write + max_tokens
    settled_per_request: float | None  # input + cache write + output x burndown
    in_flight_s: float | None  # mean time from send to the last byte: a reservation's hold


@dataclass(frozen=True)
class WindowJudgement:
    """The stage on whole quota windows: which rule judged it, the projections, and why its
    rate is more than the quota allows (empty: it fits, or the rule could not tell)."""

    rule: WindowRule
    quota: KnownQuota
    use: StageQuotaUse
    reasons: list[str] = field(default_factory=list)
    note: str | None = None

    @property
    def quota_bound(self) -> bool:
        return bool(self.reasons)

    @property
    def projected_reserved_tpm(self) -> float | None:
        return _per_minute(self.use.rate, self.use.reserved_per_request)

    @property
    def projected_settled_tpm(self) -> float | None:
        return _per_minute(self.use.rate, self.use.settled_per_request)

    @property
    def projected_rpm(self) -> float:
        return self.use.rate * WINDOW_S

    @property
    def held_tokens(self) -> float | None:
        """Tokens reserved by the requests in flight at once, at this rate."""
        use = self.use
        if use.reserved_per_request is None or use.in_flight_s is None:
            return None
        return use.rate * use.in_flight_s * use.reserved_per_request

    def to_json(self) -> dict[str, Any]:
        return {
            "quota": self.quota.to_json(),
            "reserved_per_request": _round(self.use.reserved_per_request),
            "settled_per_request": _round(self.use.settled_per_request),
            "in_flight_s": _round(self.use.in_flight_s, 3),
            "projected_reserved_tpm": _round(self.projected_reserved_tpm),
            "projected_settled_tpm": _round(self.projected_settled_tpm),
            "projected_rpm": _round(self.projected_rpm),
            "held_tokens": _round(self.held_tokens),
            "reasons": self.reasons,
            "note": self.note,
        }


def judge_window(use: StageQuotaUse, quota: KnownQuota) -> WindowJudgement:
    """The stage's rate against the quota, per minute (see the module's docstring)."""
    tpm_projectable = bool(quota.tpm) and use.settled_per_request is not None
    if not (tpm_projectable or quota.rpm):
        long_enough = use.duration_s is not None and use.duration_s >= WINDOW_S
        note = QUOTA_UNKNOWN_LONG if long_enough else QUOTA_UNKNOWN_SHORT
        if quota.tpm:  # known, but the server gave no usage to project it with
            note = "no token usage to project the TPM quota with: " + (
                "judged on the throttles of whole minutes"
                if long_enough
                else "latency only; a stage shorter than a minute cannot show it"
            )
        return WindowJudgement(WHOLE_MINUTE if long_enough else LATENCY_ONLY, quota, use, [], note)
    projection = WindowJudgement(PROJECTED, quota, use)  # its figures, before any reason
    reasons: list[str] = []
    rate = fmt(use.rate)
    settled = projection.projected_settled_tpm
    if quota.tpm and settled is not None and settled > quota.tpm:
        reasons.append(
            f"at {rate} req/s it settles {fmt(round(settled))} tokens a minute "
            f"({fmt(round(use.settled_per_request or 0))} a request) > TPM quota "
            f"{fmt(quota.tpm)}"
        )
    held = projection.held_tokens
    if quota.tpm and held is not None and held > quota.tpm:
        reasons.append(
            f"at {rate} req/s its requests in flight hold {fmt(round(held))} reserved tokens "
            f"at once ({fmt(round(use.reserved_per_request or 0))} each, input + max_tokens) > "
            f"TPM quota {fmt(quota.tpm)}"
        )
    if quota.rpm and projection.projected_rpm > quota.rpm:
        reasons.append(
            f"at {rate} req/s it sends {fmt(round(projection.projected_rpm))} requests a "
            f"minute > RPM quota {fmt(quota.rpm)}"
        )
    projected_note: str | None = None
    if quota.tpm and not tpm_projectable:
        projected_note = "no token usage: only the RPM quota was projected"
    return WindowJudgement(PROJECTED, quota, use, reasons, projected_note)


def quota_allowed_rps(quota: KnownQuota, use: StageQuotaUse) -> float | None:
    """The highest steady rate the quota allows with these requests: settlement against TPM
    (and held reservations, where those bind first), requests against RPM."""
    limits: list[float] = []
    if quota.rpm:
        limits.append(quota.rpm / WINDOW_S)
    if quota.tpm and use.settled_per_request:
        limits.append(quota.tpm / WINDOW_S / use.settled_per_request)
    if quota.tpm and use.reserved_per_request and use.in_flight_s:
        limits.append(quota.tpm / (use.in_flight_s * use.reserved_per_request))
    return min(limits) if limits else None


def _per_minute(rate: float, per_request: float | None) -> float | None:
    return None if per_request is None else rate * WINDOW_S * per_request


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)
