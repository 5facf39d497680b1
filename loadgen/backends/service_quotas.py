"""The account's Bedrock quotas, read from Service Quotas (`--quota-from-account`).

ListServiceQuotas(ServiceCode="bedrock") gives every Bedrock quota of the account in its
Region, by name. The runtime's per-model ones are named after the pool and the model
(docs/quotas.md): "On-demand InvokeModel tokens per minute for <model>", "Cross-Region
InvokeModel tokens per minute for <model>", "Global cross-Region model inference tokens per
minute for <model>", "Model invocation max tokens per day for <model>", and the requests-per-
minute ones where a model still has them. A model id is matched to them by its pool (a bare
id, a geographic profile, global.) and by its name in Service Quotas (loadgen/cost/
burndown.yaml).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import aioboto3
from aiobotocore.config import AioConfig

from loadgen.config.quota_spec import ModelQuota, QuotaPool, quota_pool

SERVICE_CODE = "bedrock"
Metric = Literal["tpm", "tpd", "rpm"]

_METRICS: tuple[tuple[str, Metric], ...] = (
    ("tokens per minute", "tpm"),
    ("tokens per day", "tpd"),
    ("requests per minute", "rpm"),
)
_NOTES = re.compile(r"\([^)]*\)")
_VERSION_OR_NOTE = re.compile(r"(\s*\([^)]*\))+$|\s+v\d+$")


def normalized_name(name: str) -> str:
    """A model's name as matched: lower case, single spaces, no trailing "V1" or "(note)"."""
    text = " ".join(name.lower().split())
    while True:
        trimmed = _VERSION_OR_NOTE.sub("", text).strip()
        if trimmed == text:
            return text
        text = trimmed


def parse_quota_name(name: str) -> tuple[Metric, QuotaPool | None, str] | None:
    """(metric, pool, model name) of a per-model quota; None for any other quota. The pool is
    None when the quota is the model's in every pool (tokens per day)."""
    # Notes in brackets ("(doubled for cross-region calls)") are not part of the name.
    lowered = " ".join(_NOTES.sub(" ", name.lower()).split())
    head, found, model = lowered.rpartition(" for ")
    if not found or not model:
        return None
    metric = next((m for phrase, m in _METRICS if phrase in head), None)
    if metric is None:
        return None
    pool: QuotaPool | None
    if "global cross-region" in head or "global cross region" in head:
        pool = "global"
    elif "cross-region" in head or "cross region" in head:
        pool = "cross_region"
    elif "on-demand" in head or "on demand" in head:
        pool = "in_region"
    else:
        pool = None
    return metric, pool, model


def match_quotas(
    quotas: Iterable[Mapping[str, Any]], names: Mapping[str, str | None]
) -> dict[str, ModelQuota]:
    """Each model id's quotas (by its pool) among Service Quotas' entries; `names` gives each
    id's model name in Service Quotas (None: unknown, so nothing matches). A pool's own quota
    wins over one that holds for every pool; a tokens-per-day quota whose name says it is
    "doubled for cross-region calls" counts twice for cross-Region and global ids."""
    wanted = {
        model_id: normalized_name(name) for model_id, name in names.items() if name is not None
    }
    found: dict[str, dict[str, int]] = {model_id: {} for model_id in wanted}
    exact: dict[str, set[str]] = {model_id: set() for model_id in wanted}
    for quota in quotas:
        parsed = parse_quota_name(str(quota.get("QuotaName", "")))
        value = quota.get("Value")
        if parsed is None or not isinstance(value, int | float) or value < 1:
            continue
        metric, pool, model = parsed
        for model_id, name in wanted.items():
            own_pool = quota_pool(model_id)
            if normalized_name(model) != name or pool not in (None, own_pool):
                continue
            if metric in exact[model_id] and pool is None:
                continue  # the pool's own quota is already there
            amount = int(value)
            doubled = "doubled for cross-region" in str(quota.get("QuotaName", "")).lower()
            if doubled and own_pool != "in_region":
                amount *= 2
            found[model_id][metric] = amount
            if pool is not None:
                exact[model_id].add(metric)
    return {
        model_id: ModelQuota.model_validate(values) for model_id, values in found.items() if values
    }


async def list_bedrock_quotas(
    region: str, profile: str | None, connect_timeout: float = 10.0
) -> list[dict[str, Any]]:
    """Every Bedrock quota of the account in `region` (ListServiceQuotas, all pages). The
    endpoint is the standard one, or AWS_ENDPOINT_URL_SERVICE_QUOTAS (a local double in
    tests). Raises botocore's errors: no credentials, access denied, unreachable."""
    session = aioboto3.Session(profile_name=profile, region_name=region)
    config = AioConfig(
        retries={"total_max_attempts": 3, "mode": "standard"},
        connect_timeout=connect_timeout,
        read_timeout=30,
    )
    quotas: list[dict[str, Any]] = []
    async with session.client("service-quotas", config=config) as client:
        paginator = client.get_paginator("list_service_quotas")
        async for page in paginator.paginate(ServiceCode=SERVICE_CODE):
            quotas.extend(page.get("Quotas", []))
    return quotas
