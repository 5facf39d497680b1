"""A scenario's `quota:` entry for one model: the account's quotas to measure the run against.

Kept in config because the scenario model validates it; loadgen/record/quota_usage.py reads it
to say how much headroom each quota had and in which minute it ran out (docs/quotas.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field

from loadgen.config.base import StrictModel

# Where a run's quotas came from: the scenario's `quota:`, the account (--quota-from-account,
# Service Quotas) or, under --emulate, the emulator's profile.
QuotaSource = Literal["scenario", "account", "emulator"]


class ModelQuota(StrictModel):
    """Bedrock's per-model quotas for the pool the model id draws on (a bare id: on-demand in
    the Region; us./eu./apac.: cross-Region; global.: global). None: not limited, or unknown."""

    tpm: int | None = Field(None, ge=1, description="tokens per minute")
    tpd: int | None = Field(None, ge=1, description="tokens per day")
    rpm: int | None = Field(None, ge=1, description="requests per minute, where AWS has one")

    @property
    def given(self) -> bool:
        return self.tpm is not None or self.tpd is not None or self.rpm is not None


QuotaPool = Literal["in_region", "cross_region", "global"]
# Geographic cross-Region inference profiles put a geography in front of the model id
# (us.amazon.nova-lite-v1:0); global. ones route worldwide and have a pool of their own.
GEO_PREFIXES = ("us", "eu", "apac", "us-gov", "jp", "au", "ca")


def quota_pool(model_id: str) -> QuotaPool:
    """The quota pool a model id draws on, as Bedrock keeps them apart: on demand in the Region
    (a bare model id), cross-Region (a geographic inference profile) or global."""
    bare = model_id.rsplit("/", 1)[-1]  # an ARN names the id after its last slash
    prefix, dot, _ = bare.partition(".")
    if dot and prefix == "global":
        return "global"
    if dot and prefix in GEO_PREFIXES:
        return "cross_region"
    return "in_region"


@dataclass(frozen=True)
class RunQuotas:
    """The quotas a run is measured against, per model id, and where each came from."""

    limits: Mapping[str, ModelQuota] = field(default_factory=dict)
    sources: Mapping[str, QuotaSource] = field(default_factory=dict)
