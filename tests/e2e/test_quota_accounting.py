"""Quotas by AWS's rules end to end (docs/quotas.md): loadgen's own accounting against the
emulator's log, request by request and minute by minute; the concurrency at which the emulator
starts throttling; and the account's quotas read from Service Quotas (a local double)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rich.console import Console

from loadgen.core.sample import Sample
from loadgen.cost.burndown import BurndownBook
from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.emulator.overrides import apply_overrides
from loadgen.record.quota_usage import charge
from loadgen.run import RunOptions, run_async
from tests.emulator_log import EmulatorLog
from tests.service_quotas_double import TARGET, ServiceQuotasDouble, bedrock_quota

SONNET = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"  # cross-Region, output x5
LITE = "amazon.nova-lite-v1:0"  # on demand in the Region, output x1
MAX_TOKENS = 300


def _fast(quota: dict[str, Any]) -> dict[str, Any]:
    return {"ttft_ms": 20, "itl_ms": 5, "output_tokens": 40, "tokens_per_delta": 4, "quota": quota}


def _samples(out_dir: Path) -> list[Sample]:
    lines = (out_dir / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    return [Sample.from_json_dict(json.loads(line)) for line in lines if line.strip()]


async def test_loadgen_accounting_matches_the_emulators_log(
    aws_env: dict[str, str], make_scenario: Any, tmp_path: Path
) -> None:
    # Sonnet's TPM is small enough that some requests are refused: 24 requests reserving
    # about 360 tokens each, a bucket of 4,000 that refills 67 a second.
    config = EmulatorConfig.model_validate(
        {
            "profiles": {
                SONNET.removeprefix("us."): _fast({"tpm": 4_000, "output_burndown": 5}),
                LITE: _fast({"tpm": 1_000_000}),
            }
        }
    )
    log = tmp_path / "requests.jsonl"
    async with EmulatorProcess(config, log_path=log) as process:
        scenario = make_scenario(
            models=[SONNET, LITE],
            target={"endpoint_url": process.url},
            inference={"max_tokens": MAX_TOKENS},
            load={"rate": 16, "arrival": "constant", "requests": 48},
            quota={SONNET: {"tpm": 4_000}, LITE: {"tpm": 5_000, "rpm": 1_000}},
        )
        options = RunOptions(
            out_dir=tmp_path / "out", quiet=True, console=Console(quiet=True), preflight=False
        )
        result = await run_async(scenario, options)
        lines = await asyncio.to_thread(EmulatorLog(log, process.stats).settled)
    samples = _samples(result.out_dir)
    assert len(lines) == len(samples) == 48
    section = result.report["quota"]["models"]
    book = BurndownBook.builtin()
    for model in (SONNET, LITE):
        logged = [line for line in lines if line["model"] == model]
        mine = [s for s in samples if s.model == model]
        assert {line["quota_pool"] for line in logged} == {section[model]["pool"]}
        # Request by request: what each reserved and settled, by the emulator's own record
        # and by loadgen's rule applied to its samples (no shared code between the two).
        burndown = book.resolve(model).rate
        charges = [charge(sample, MAX_TOKENS, burndown) for sample in mine]
        ours = Counter((c.reserved, c.settled) for c in charges if c is not None)
        theirs = Counter(
            (line["reserved_tokens"], line["settled_tokens"])
            for line in logged
            if line["outcome"] == "ok"
        )
        assert ours == theirs and sum(theirs.values()) == section[model]["requests"]
        refused = sum(line["outcome"].startswith("throttled") for line in logged)
        assert section[model]["throttled"] == refused
        # Minute by minute (a run of 3 s has one): the emulator's sums are loadgen's.
        (minute,) = section[model]["minutes"]
        assert minute["reserved_tokens"] == sum(line["reserved_tokens"] for line in logged)
        assert minute["settled_tokens"] == sum(line["settled_tokens"] for line in logged)
        assert minute["requests"] == section[model]["requests"]
        assert minute["throttled"] == refused
    sonnet = section[SONNET]
    assert sonnet["throttled"] > 0 and sonnet["burndown"] == 5
    assert set(sonnet["first_refused_s"]) == {"tpm"}  # by its message, "Too many tokens"
    assert sonnet["limits"]["tpm"]["ran_out_minute"] == 0
    lite = section[LITE]
    assert lite["throttled"] == 0 and lite["limits"]["tpm"]["source"] == "scenario"
    assert lite["limits"]["tpm"]["headroom"] == 5_000 - lite["peak_reserved_per_minute"]
    assert lite["limits"]["rpm"]["peak"] == lite["peak_requests_per_minute"] == 24


async def _status(session: aiohttp.ClientSession, url: str, body: dict[str, Any]) -> int:
    """The status of a streamed answer: it comes with the headers, before the first token."""
    async with session.post(f"{url}/model/{SONNET}/converse-stream", json=body) as response:
        return response.status


async def test_the_emulator_throttles_at_the_concurrency_aws_rule_predicts() -> None:
    # The built-in Claude 3.7 Sonnet profile (output x5) with a TPM quota of 60,000: requests
    # of 1,000 input tokens and maxTokens 2,000, all at once. AWS's rule reserves 3,000 each,
    # so 20 get in; the old rule (maxTokens x 5) let 5 in.
    config = apply_overrides(EmulatorConfig.builtin(), tpm=60_000)
    body = {
        "messages": [{"role": "user", "content": [{"text": "x" * 4_000}]}],
        "inferenceConfig": {"maxTokens": 2_000},
    }
    predicted = 60_000 // (1_000 + 2_000)
    async with EmulatorProcess(config) as process, aiohttp.ClientSession() as session:
        statuses = await asyncio.gather(
            *(_status(session, process.url, body) for _ in range(2 * predicted))
        )
    admitted = statuses.count(200)
    assert set(statuses) == {200, 429}
    # A burst that takes t seconds to arrive also gets the refill: 1,000 tokens a second.
    assert predicted <= admitted <= predicted * 1.1, statuses
    assert admitted >= 4 * (60_000 // (1_000 + 5 * 2_000))


async def test_quotas_from_the_account_by_service_quotas(
    aws_env: dict[str, str],
    make_scenario: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    quotas = [
        bedrock_quota("L-1", "On-demand InvokeModel tokens per minute for Amazon Nova Lite", 9e5),
        bedrock_quota(
            "L-2", "Cross-Region InvokeModel tokens per minute for Amazon Nova Lite", 2e6
        ),
        bedrock_quota(
            "L-3",
            "Cross-Region InvokeModel tokens per minute for Anthropic Claude 3.7 Sonnet V1",
            250_000,
        ),
        bedrock_quota(
            "L-4",
            "Model invocation max tokens per day for Anthropic Claude 3.7 Sonnet V1 "
            "(doubled for cross-region calls)",
            1e8,
        ),
        bedrock_quota("L-5", "Batch inference jobs per model", 20),
    ]
    config = EmulatorConfig.model_validate(
        {"profiles": {SONNET.removeprefix("us."): _fast({}), LITE: _fast({})}}
    )
    async with (
        ServiceQuotasDouble(quotas) as double,
        EmulatorProcess(config) as process,
    ):
        monkeypatch.setenv("AWS_ENDPOINT_URL_SERVICE_QUOTAS", double.url)
        scenario = make_scenario(
            models=[SONNET, LITE],
            target={"endpoint_url": process.url, "region": "us-east-1"},
            load={"rate": 10, "arrival": "constant", "requests": 4},
        )
        options = RunOptions(
            out_dir=tmp_path / "out",
            quiet=True,
            console=Console(quiet=True),
            preflight=False,
            quota_from_account=True,
        )
        result = await run_async(scenario, options)
    assert [target for target, _ in double.requests] == [TARGET] * 3  # 5 quotas, 2 a page
    assert all(body["ServiceCode"] == "bedrock" for _, body in double.requests)
    section = result.report["quota"]["models"]
    sonnet, lite = section[SONNET]["limits"], section[LITE]["limits"]
    assert {name: use["limit"] for name, use in sonnet.items()} == {
        "tpm": 250_000,
        "tpd": 200_000_000,  # doubled for a cross-Region id, as its name says
    }
    assert {name: use["limit"] for name, use in lite.items()} == {"tpm": 900_000}  # on demand
    assert {use["source"] for use in [*sonnet.values(), *lite.values()]} == {"account"}
