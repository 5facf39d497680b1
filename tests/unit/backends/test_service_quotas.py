"""Matching Service Quotas' Bedrock entries to a run's model ids (--quota-from-account): by the
quota's metric, the pool the id draws on, and the model's name, as AWS names them."""

from __future__ import annotations

from loadgen.backends.service_quotas import match_quotas, normalized_name, parse_quota_name
from loadgen.config.quota_spec import ModelQuota

NAMES = {
    "anthropic.claude-sonnet-4-20250514-v1:0": "Anthropic Claude Sonnet 4",
    "us.anthropic.claude-sonnet-4-20250514-v1:0": "Anthropic Claude Sonnet 4",
    "global.anthropic.claude-sonnet-4-20250514-v1:0": "Anthropic Claude Sonnet 4",
    "amazon.nova-lite-v1:0": "Amazon Nova Lite",
    "private.model": None,
}


def _quota(name: str, value: float) -> dict[str, object]:
    return {"QuotaName": name, "Value": value, "ServiceCode": "bedrock"}


def test_quota_names_as_aws_writes_them() -> None:
    assert parse_quota_name("Cross-Region InvokeModel tokens per minute for X Y V1") == (
        "tpm",
        "cross_region",
        "x y v1",
    )
    assert parse_quota_name("Global cross-Region model inference tokens per minute for X") == (
        "tpm",
        "global",
        "x",
    )
    assert parse_quota_name("On-demand InvokeModel requests per minute for X") == (
        "rpm",
        "in_region",
        "x",
    )
    # A note in brackets is not the model's name, and says nothing of the pool.
    daily = "Model invocation max tokens per day for X V1 (doubled for cross-region calls)"
    assert parse_quota_name(daily) == ("tpd", None, "x v1")
    assert parse_quota_name("Batch inference jobs per model") is None
    assert parse_quota_name("Cross-Model Max Tokens Per Day") is None
    assert (
        normalized_name("Anthropic  Claude 3.7 Sonnet V1 (note)") == "anthropic claude 3.7 sonnet"
    )


def test_each_id_gets_its_own_pools_quotas() -> None:
    quotas = [
        _quota("On-demand InvokeModel tokens per minute for Anthropic Claude Sonnet 4 V1", 1e5),
        _quota("Cross-Region InvokeModel tokens per minute for Anthropic Claude Sonnet 4 V1", 2e5),
        _quota(
            "Global cross-Region model inference tokens per minute for Anthropic Claude Sonnet 4",
            4e5,
        ),
        _quota(
            "Model invocation max tokens per day for Anthropic Claude Sonnet 4 V1 "
            "(doubled for cross-region calls)",
            1e8,
        ),
        _quota("Cross-Region InvokeModel requests per minute for Anthropic Claude Sonnet 4", 200),
        _quota("On-demand InvokeModel tokens per minute for Amazon Nova Lite", 0),  # unusable
        _quota("On-demand InvokeModel tokens per minute for Amazon Nova Micro", 9e5),
    ]
    found = match_quotas(quotas, NAMES)
    assert found == {
        "anthropic.claude-sonnet-4-20250514-v1:0": ModelQuota(tpm=100_000, tpd=100_000_000),
        "us.anthropic.claude-sonnet-4-20250514-v1:0": ModelQuota(
            tpm=200_000, tpd=200_000_000, rpm=200
        ),
        "global.anthropic.claude-sonnet-4-20250514-v1:0": ModelQuota(tpm=400_000, tpd=200_000_000),
    }  # Nova Lite's only entry is 0, Nova Micro is not in the run, private.model has no name
