"""The emulator answers each request option as Bedrock does, read by the real clients: aioboto3
(ConverseStream, InvokeModelWithResponseStream) with the requests built here, as boto kwargs
and native bodies, and the OpenAI SDK; each checked against the emulator's own request log.
And a request with none of the options is answered exactly as before they existed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aioboto3
import aiohttp
import openai
import pytest
from botocore.config import Config

from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.emulator.guardrail import BLOCKED_MESSAGE
from loadgen.emulator.prompt_cache import ttft_after_cache_ns
from tests.e2e.plain_traffic import EXPECTATION, PLAIN_CONFIG, seeded_fields, send_plain
from tests.emulator_log import CLIENT_TAIL_MS, ROUNDING_MS, EmulatorLog, planned_first_ms

_QUICK = {"ttft_ms": 30, "itl_ms": 2, "output_tokens": 12, "tokens_per_delta": 2}
_CACHED = {**_QUICK, "ttft_ms": 400, "prefill_ms_per_1k_tokens": 100, "quota": {"tpm": 10**7}}
PROFILES: dict[str, Any] = {
    "anthropic.quick-v1:0": {**_QUICK, "reasoning_tokens": 20, "reasoning_tokens_jitter": 5},
    "anthropic.cached-v1:0": _CACHED,
    "amazon.nova-guarded-v1:0": {**_QUICK, "guardrail_intervention_rate": 1.0},
    "amazon.nova-cached-v1:0": _QUICK,
    "openai.tiered-v1:0": {**_QUICK, "ttft_ms": 100, "reasoning_tokens": 10},
}
SYSTEM = "You are the support agent of a parcel company. " * 180  # about 2,000 tokens
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city.",
    "inputSchema": {
        "json": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city", "days"],
        }
    },
}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, EmulatorLog]]:
    log = tmp_path_factory.mktemp("options") / "requests.jsonl"
    config = EmulatorConfig.model_validate({"seed": 3, "profiles": PROFILES})
    with EmulatorProcess(config, log_path=log) as process:
        yield process.url, EmulatorLog(log, process.stats)


def _log_line(log: EmulatorLog, request_id: str) -> dict[str, Any]:
    for record in log.settled():
        if record["request_id"] == request_id:
            return dict(record)
    raise AssertionError(f"request {request_id} is not in the emulator's log")


@asynccontextmanager
async def _bedrock(
    url: str, hooks: dict[str, Callable[..., None]] | None = None
) -> AsyncIterator[Any]:
    session = aioboto3.Session(
        aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1"
    )
    config = Config(retries={"total_max_attempts": 1, "mode": "standard"})
    async with session.client("bedrock-runtime", endpoint_url=url, config=config) as client:
        for event, hook in (hooks or {}).items():
            client.meta.events.register(event, hook)
        yield client


def _user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": [{"text": text}]}


async def _converse_stream(url: str, **kwargs: Any) -> tuple[list[dict[str, Any]], str, float]:
    """(events, request id, seconds from the call to the first content delta)."""
    async with _bedrock(url) as client:
        started = time.perf_counter()
        response = await client.converse_stream(**kwargs)
        events: list[dict[str, Any]] = []
        first: float | None = None
        async for event in response["stream"]:
            if first is None and "contentBlockDelta" in event:
                first = time.perf_counter() - started
            events.append(event)
        assert first is not None
        return events, response["ResponseMetadata"]["RequestId"], first


def test_plain_requests_are_answered_as_before(tmp_path: Path) -> None:
    """Same seed, same traffic, no options: the log's seeded fields (plan, tokens, faults,
    quota figures) equal what commit 285343a's emulator logged."""
    log = tmp_path / "plain.jsonl"
    with EmulatorProcess(EmulatorConfig.model_validate(PLAIN_CONFIG), log_path=log) as process:
        asyncio.run(send_plain(process.url))
    expected = json.loads(EXPECTATION.read_text(encoding="utf-8"))
    assert seeded_fields(log) == expected
    assert all("cache_read_tokens" not in line for line in seeded_fields(log))


def test_cache_write_then_read_lowers_ttft(emulator: tuple[str, EmulatorLog]) -> None:
    url, log = emulator
    kwargs: dict[str, Any] = {
        "modelId": "us.anthropic.cached-v1:0",
        "system": [{"text": SYSTEM}, {"cachePoint": {"type": "default"}}],
        "messages": [_user("Where is my parcel?")],
        "inferenceConfig": {"maxTokens": 50},
    }
    first, first_id, first_ttft = asyncio.run(_converse_stream(url, **kwargs))
    second, second_id, second_ttft = asyncio.run(_converse_stream(url, **kwargs))
    wrote, read = first[-1]["metadata"]["usage"], second[-1]["metadata"]["usage"]
    one, two = _log_line(log, first_id), _log_line(log, second_id)
    assert wrote["cacheWriteInputTokens"] == one["cache_write_tokens"] > 1000
    assert wrote["cacheReadInputTokens"] == 0
    assert read["cacheReadInputTokens"] == two["cache_read_tokens"] == one["cache_write_tokens"]
    assert read["cacheWriteInputTokens"] == 0
    # inputTokens leaves the cached prefix out: only the user's question remains.
    assert read["inputTokens"] == two["input_tokens"] < 10
    profile = PROFILES["anthropic.cached-v1:0"]
    expected_ns = ttft_after_cache_ns(
        round(one["ttft_ms"] * 1e6),
        two["cache_read_tokens"],
        profile["prefill_ms_per_1k_tokens"],
        0.3,
    )
    assert two["ttft_ms"] == pytest.approx(expected_ns / 1e6, abs=0.01)
    assert two["ttft_ms"] < one["ttft_ms"]
    # What the client saw follows the log: the saving is over 100 ms, far above the noise.
    saved_s = (one["ttft_ms"] - two["ttft_ms"]) / 1000
    assert second_ttft < first_ttft - saved_s / 2
    # Quotas: the cache write counts, the cache read does not.
    assert two["reserved_tokens"] < one["reserved_tokens"]


def test_converse_stream_reasoning_precedes_text(emulator: tuple[str, EmulatorLog]) -> None:
    url, log = emulator
    events, request_id, _ = asyncio.run(
        _converse_stream(
            url,
            modelId="us.anthropic.quick-v1:0",
            messages=[_user("Think first.")],
            inferenceConfig={"maxTokens": 2000},
            additionalModelRequestFields={"thinking": {"type": "enabled", "budget_tokens": 1024}},
        )
    )
    deltas = [e["contentBlockDelta"] for e in events if "contentBlockDelta" in e]
    kinds = ["reasoning" if "reasoningContent" in d["delta"] else "text" for d in deltas]
    first_text = kinds.index("text")
    assert set(kinds[:first_text]) == {"reasoning"} and set(kinds[first_text:]) == {"text"}
    reasoning = [d["delta"]["reasoningContent"] for d in deltas[:first_text]]
    assert "signature" in reasoning[-1] and all("text" in r for r in reasoning[:-1])
    assert {d["contentBlockIndex"] for d in deltas[:first_text]} == {0}
    assert {d["contentBlockIndex"] for d in deltas[first_text:]} == {1}
    line = _log_line(log, request_id)
    thought = sum(len(r["text"].split()) for r in reasoning[:-1])
    answer = sum(len(d["delta"]["text"].split()) for d in deltas[first_text:])
    assert thought == line["reasoning_tokens"] > 0
    assert events[-1]["metadata"]["usage"]["outputTokens"] == thought + answer
    assert line["reasoning_ms"] > 0


def test_invoke_stream_thinking_then_text(emulator: tuple[str, EmulatorLog]) -> None:
    url, log = emulator
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 2000,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Think first."}]}],
    }

    async def call() -> tuple[list[dict[str, Any]], str, list[float]]:
        async with _bedrock(url) as client:
            started = time.perf_counter()
            response = await client.invoke_model_with_response_stream(
                modelId="us.anthropic.quick-v1:0", body=json.dumps(body)
            )
            events, stamps = [], []
            async for event in response["body"]:
                events.append(json.loads(event["chunk"]["bytes"]))
                stamps.append(time.perf_counter() - started)
            return events, response["ResponseMetadata"]["RequestId"], stamps

    events, request_id, stamps = asyncio.run(call())
    types = [e["type"] for e in events]
    assert types[0] == "message_start" and types[-1] == "message_stop"
    blocks = [e["content_block"]["type"] for e in events if e["type"] == "content_block_start"]
    assert blocks == ["thinking", "text"]
    deltas = [e["delta"]["type"] for e in events if e["type"] == "content_block_delta"]
    first_text = deltas.index("text_delta")
    assert set(deltas[: first_text - 1]) == {"thinking_delta"}
    assert deltas[first_text - 1] == "signature_delta"
    line = _log_line(log, request_id)
    thinking = [e["delta"] for e in events if e.get("delta", {}).get("type") == "thinking_delta"]
    assert sum(len(d["thinking"].split()) for d in thinking) == line["reasoning_tokens"] > 0
    # The first text delta came no sooner than the emulator planned it (it never writes early),
    # and the client's reasoning time is the emulator's, plus or minus what the client adds.
    kinds = [e.get("delta", {}).get("type") for e in events]
    first_text_ms = stamps[kinds.index("text_delta")] * 1e3
    assert first_text_ms >= planned_first_ms(line) + line["reasoning_ms"] - ROUNDING_MS
    measured_ms = first_text_ms - stamps[kinds.index("thinking_delta")] * 1e3
    assert measured_ms == pytest.approx(line["reasoning_ms"], abs=CLIENT_TAIL_MS)
    metrics = events[-1]["amazon-bedrock-invocationMetrics"]
    assert metrics["outputTokenCount"] == line["output_tokens"]


def test_tool_use_then_tool_result(emulator: tuple[str, EmulatorLog]) -> None:
    url, log = emulator
    tool_config = {"tools": [{"toolSpec": WEATHER}], "toolChoice": {"any": {}}}
    events, request_id, _ = asyncio.run(
        _converse_stream(
            url,
            modelId="us.anthropic.quick-v1:0",
            messages=[_user("Weather in Paris for 3 days?")],
            toolConfig=tool_config,
        )
    )
    start = next(e["contentBlockStart"] for e in events if "contentBlockStart" in e)
    tool_use = start["start"]["toolUse"]
    assert tool_use["name"] == "get_weather"
    pieces = [
        e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for e in events
        if "contentBlockDelta" in e
    ]
    arguments = json.loads("".join(pieces))
    assert isinstance(arguments["city"], str) and isinstance(arguments["days"], int)
    assert next(e for e in events if "messageStop" in e)["messageStop"]["stopReason"] == "tool_use"
    assert _log_line(log, request_id)["tool_use"] == "get_weather"
    # The next turn carries the tool's result: the answer is text.
    history = [
        _user("Weather in Paris for 3 days?"),
        {"role": "assistant", "content": [{"toolUse": {**tool_use, "input": arguments}}]},
        {
            "role": "user",
            "content": [
                {"toolResult": {"toolUseId": tool_use["toolUseId"], "content": [{"text": "Sunny"}]}}
            ],
        },
    ]
    events, request_id, _ = asyncio.run(
        _converse_stream(
            url, modelId="us.anthropic.quick-v1:0", messages=history, toolConfig=tool_config
        )
    )
    assert next(e for e in events if "messageStop" in e)["messageStop"]["stopReason"] == "end_turn"
    assert all(
        "toolUse" not in e["contentBlockDelta"]["delta"] for e in events if "contentBlockDelta" in e
    )
    assert _log_line(log, request_id)["tool_use"] is None


def test_guardrail_intervenes_with_trace(emulator: tuple[str, EmulatorLog]) -> None:
    url, log = emulator
    guardrail = {"guardrailIdentifier": "gr-123", "guardrailVersion": "1", "trace": "enabled"}
    events, request_id, _ = asyncio.run(
        _converse_stream(
            url,
            modelId="us.amazon.nova-guarded-v1:0",
            messages=[_user("Tell me something.")],
            guardrailConfig=guardrail,
        )
    )
    texts = [e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e]
    assert texts[-1] == BLOCKED_MESSAGE
    stop = next(e for e in events if "messageStop" in e)["messageStop"]
    assert stop["stopReason"] == "guardrail_intervened"
    assessment = events[-1]["metadata"]["trace"]["guardrail"]["outputAssessments"]["gr-123"][0]
    assert assessment["contentPolicy"]["filters"][0]["action"] == "BLOCKED"
    assert _log_line(log, request_id)["guardrail_intervened"] is True


def test_tiers_named_and_request_id_logged(emulator: tuple[str, EmulatorLog]) -> None:
    """InvokeModel's tier travels in a header both ways (botocore 1.40 does not model it yet:
    the test adds it to the signed request, as loadgen's signed path does)."""
    url, log = emulator

    def flex(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Bedrock-Service-Tier"] = "flex"

    body = {
        "schemaVersion": "messages-v1",
        "messages": [{"role": "user", "content": [{"text": "Hello"}]}],
        "inferenceConfig": {"maxTokens": 40},
    }

    async def call() -> tuple[dict[str, str], str, int]:
        hooks = {"before-sign.bedrock-runtime.InvokeModelWithResponseStream": flex}
        async with _bedrock(url, hooks) as client:
            response = await client.invoke_model_with_response_stream(
                modelId="us.amazon.nova-guarded-v1:0", body=json.dumps(body)
            )
            chunks = [event async for event in response["body"]]
            metadata = response["ResponseMetadata"]
            return metadata["HTTPHeaders"], metadata["RequestId"], len(chunks)

    headers, request_id, chunks = asyncio.run(call())
    assert chunks > 2
    assert headers["x-amzn-bedrock-service-tier"] == "flex"
    line = _log_line(log, request_id)
    assert line["request_id"] == headers["x-amzn-requestid"] == request_id
    assert line["service_tier"] == "flex"


def test_openai_sdk_tier_reasoning_and_tools(emulator: tuple[str, EmulatorLog]) -> None:
    url, log = emulator
    sdk = openai.OpenAI(base_url=f"{url}/v1", api_key="x", max_retries=0)
    raw = sdk.chat.completions.with_raw_response.create(
        model="openai.tiered-v1:0",
        messages=[{"role": "user", "content": "What is the weather in Oslo?"}],
        reasoning_effort="low",
        service_tier="priority",
        tools=[
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": WEATHER["inputSchema"]["json"],  # type: ignore[index]
                },
            }
        ],
        tool_choice="required",
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(raw.parse())
    kinds = []
    arguments = ""
    for chunk in chunks:
        assert chunk.service_tier == "priority"
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        if getattr(delta, "reasoning_content", None):
            kinds.append("reasoning")
        if delta.tool_calls:
            kinds.append("tool")
            arguments += delta.tool_calls[0].function.arguments or ""
    assert (
        kinds.index("tool") > kinds.index("reasoning")
        and "reasoning" not in kinds[kinds.index("tool") :]
    )
    assert json.loads(arguments)["city"]
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish == ["tool_calls"]
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens_details is not None
    request_id = raw.headers["x-amzn-requestid"]
    line = _log_line(log, request_id)
    assert usage.completion_tokens_details.reasoning_tokens == line["reasoning_tokens"]
    assert line["service_tier"] == "priority"
    # Priority is served faster: its planned TTFT is the profile's x priority_speed (0.8).
    assert line["ttft_ms"] == pytest.approx(PROFILES["openai.tiered-v1:0"]["ttft_ms"] * 0.8)


def test_whole_answers_carry_the_blocks_and_the_cache(emulator: tuple[str, EmulatorLog]) -> None:
    """Converse and InvokeModel (Nova's body) without streaming: reasoning, tool use and cache
    usage in each API's own fields."""
    url, log = emulator
    nova = {
        "schemaVersion": "messages-v1",
        "system": [{"text": SYSTEM}, {"cachePoint": {"type": "default"}}],
        "messages": [{"role": "user", "content": [{"text": "Where is my parcel?"}]}],
        "inferenceConfig": {"maxTokens": 40},
    }

    async def calls() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with _bedrock(url) as client:
            answer = await client.converse(
                modelId="us.anthropic.quick-v1:0",
                messages=[_user("Weather in Paris?")],
                toolConfig={"tools": [{"toolSpec": WEATHER}], "toolChoice": {"any": {}}},
                additionalModelRequestFields={
                    "thinking": {"type": "enabled", "budget_tokens": 1024}
                },
            )
            invoked = []
            for _ in range(2):
                response = await client.invoke_model(
                    modelId="us.amazon.nova-cached-v1:0", body=json.dumps(nova)
                )
                body = json.loads(await response["body"].read())
                invoked.append({**body, "headers": response["ResponseMetadata"]["HTTPHeaders"]})
            return answer, invoked

    answer, invoked = asyncio.run(calls())
    content = answer["output"]["message"]["content"]
    assert [next(iter(block)) for block in content] == ["reasoningContent", "toolUse"]
    assert content[0]["reasoningContent"]["reasoningText"]["signature"]
    assert set(content[1]["toolUse"]["input"]) == {"city", "days"}
    assert answer["stopReason"] == "tool_use"
    line = _log_line(log, answer["ResponseMetadata"]["RequestId"])
    assert answer["usage"]["outputTokens"] == line["output_tokens"] > line["reasoning_tokens"]
    first, second = invoked
    assert first["usage"]["cacheWriteInputTokenCount"] > 1000
    assert (
        second["usage"]["cacheReadInputTokenCount"] == first["usage"]["cacheWriteInputTokenCount"]
    )
    header = "x-amzn-bedrock-cache-read-input-token-count"
    assert second["headers"][header] == str(second["usage"]["cacheReadInputTokenCount"])


def test_flex_is_shed_near_saturation(tmp_path: Path) -> None:
    """One slot, a queue of 2: with the slot busy and one request waiting, a flex request is
    refused (429 ThrottlingException, outcome shed), where a default one would still queue."""
    slow = {**_QUICK, "ttft_ms": 1500, "capacity": {"slots": 1, "queue_limit": 2}}
    config = EmulatorConfig.model_validate({"profiles": {"anthropic.slow-v1:0": slow}})
    log_path = tmp_path / "requests.jsonl"

    def body(tier: str) -> dict[str, Any]:
        return {"messages": [_user("Hello")], "serviceTier": {"type": tier}}

    async def traffic(process: EmulatorProcess) -> list[tuple[int, str]]:
        path = f"{process.url}/model/anthropic.slow-v1:0/converse"

        async def until(busy: int, queued: int) -> None:
            """Wait (polling the emulator's stats, not the clock) for this many in the slot
            and in the queue."""
            while True:
                stats = await asyncio.to_thread(process.stats)
                model = ((stats or {}).get("models") or {}).get("anthropic.slow-v1:0")
                capacity = model["capacity"] if model else {}
                if capacity.get("busy") == busy and capacity.get("queued") == queued:
                    return
                await asyncio.sleep(0.01)

        async with aiohttp.ClientSession() as session:

            async def send(tier: str) -> tuple[int, str]:
                async with session.post(path, json=body(tier)) as response:
                    await response.read()
                    return response.status, response.headers.get("x-amzn-ErrorType", "")

            busy = asyncio.create_task(send("default"))
            await until(busy=1, queued=0)
            waiting = asyncio.create_task(send("default"))
            await until(busy=1, queued=1)
            refused = await send("flex")
            return [refused, await waiting, await busy]

    with EmulatorProcess(config, log_path=log_path) as process:
        refused, waited, served = asyncio.run(traffic(process))
        outcomes = [line["outcome"] for line in EmulatorLog(log_path, process.stats).settled()]
    assert refused[0] == 429 and refused[1].startswith("ThrottlingException")
    assert waited[0] == served[0] == 200
    assert sorted(outcomes) == ["ok", "ok", "shed"]
