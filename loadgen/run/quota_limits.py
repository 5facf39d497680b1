"""The Bedrock quotas a run's use is measured against, per model (docs/quotas.md).

A model's entry in the scenario's `quota:` wins; else, with --quota-from-account, what Service
Quotas says for the model id's pool; else, under --emulate, the emulator's own profile. A model
with none is still accounted for (tokens reserved and settled, minute by minute), without
headroom. Entries for models the run does not send to are ignored: a sweep's stages run one
model of the scenario at a time.
"""

from __future__ import annotations

from rich.console import Console

from loadgen.backends.service_quotas import list_bedrock_quotas, match_quotas
from loadgen.config.quota_spec import ModelQuota, QuotaSource, RunQuotas
from loadgen.config.scenario import Scenario, TargetSpec
from loadgen.cost.burndown import BurndownBook
from loadgen.run.emulated import emulated_quota


async def run_quotas(
    scenario: Scenario,
    target: TargetSpec,
    region: str,
    *,
    from_account: bool,
    emulated: bool,
    console: Console,
) -> RunQuotas:
    models = [model.id for model in scenario.models]
    limits: dict[str, ModelQuota] = {}
    sources: dict[str, QuotaSource] = {}
    for model_id in models:
        given = scenario.quota.get(model_id)
        if given is not None and given.given:
            limits[model_id], sources[model_id] = given, "scenario"
    missing = [model_id for model_id in models if model_id not in limits]
    if from_account and missing:
        for model_id, quota in (await _account(missing, target, region, console)).items():
            limits[model_id], sources[model_id] = quota, "account"
    if emulated:
        for model_id in models:
            emulator = emulated_quota(scenario, model_id) if model_id not in limits else None
            if emulator is not None:
                limits[model_id] = ModelQuota(
                    tpm=emulator["tpm"], tpd=emulator["tpd"], rpm=emulator["rpm"]
                )
                sources[model_id] = "emulator"
    return RunQuotas(limits, sources)


async def _account(
    models: list[str], target: TargetSpec, region: str, console: Console
) -> dict[str, ModelQuota]:
    """What Service Quotas says for these models; a warning (and none) when it cannot be read:
    the run still measures the quota use, without the account's limits."""
    book = BurndownBook.builtin()
    names = {model_id: book.resolve(model_id).quota_name for model_id in models}
    try:
        quotas = await list_bedrock_quotas(region, target.profile)
    except Exception as exc:  # botocore's errors, and the SDK's missing credentials
        console.print(
            f"[yellow]warning:[/] --quota-from-account: Service Quotas could not be read in "
            f"{region} ({type(exc).__name__}: {exc}); the report has no account quotas"
        )
        return {}
    found = match_quotas(quotas, names)
    for model_id in models:
        if model_id not in found:
            why = (
                "its name in Service Quotas is not known"
                if names[model_id] is None
                else (f"no quota named for {names[model_id]} in its pool")
            )
            console.print(
                f"[yellow]warning:[/] --quota-from-account: nothing for {model_id} ({why}); "
                "give it in the scenario's quota: section"
            )
    return found
