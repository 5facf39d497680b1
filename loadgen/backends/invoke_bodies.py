"""Native request and response bodies of InvokeModel and InvokeModelWithResponseStream.

Each model family has its own body: Anthropic Messages (`anthropic.*`) and Amazon Nova
(`amazon.nova*`). The family comes from the model id, after any cross-region inference-profile
prefix (`us.`, `eu.`, `apac.`, `global.`, ...) or ARN path. Usage is read from the native body
first and from Bedrock's `amazon-bedrock-invocationMetrics` (the last stream chunk) where the
body has none.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from loadgen.backends.converse_request import cache_point_block, converse_messages, tool_config
from loadgen.backends.model_ids import base_model_id
from loadgen.backends.request_options import (
    UnsupportedOption,
    anthropic_thinking,
    merged,
    nova_reasoning_config,
)
from loadgen.engine.backend import Timeline
from loadgen.engine.request import CacheOption, Request

ANTHROPIC_VERSION = "bedrock-2023-05-31"
INVOCATION_METRICS = "amazon-bedrock-invocationMetrics"


class ModelFamily(StrEnum):
    ANTHROPIC = "anthropic"
    NOVA = "nova"


def model_family(model_id: str) -> ModelFamily | None:
    """The native body family of a model id, inference profile id or ARN; None if unknown."""
    base = base_model_id(model_id)
    if base.startswith("anthropic."):
        return ModelFamily.ANTHROPIC
    if base.startswith("amazon.nova"):
        return ModelFamily.NOVA
    return None


def request_body(family: ModelFamily, request: Request) -> dict[str, Any]:
    """The model's native body, with the options it carries in the body (the rest go in
    headers: `invoke_parameters`); additional_fields merged over it."""
    body = _anthropic_body(request) if family is ModelFamily.ANTHROPIC else _nova_body(request)
    if request.options.additional_fields:
        body = merged(body, request.options.additional_fields)
    return body


def _anthropic_body(request: Request) -> dict[str, Any]:
    """Anthropic Messages on Bedrock: cache_control on the block a cache point follows,
    `thinking`, `tools` and `tool_choice`, the history's toolUse/toolResult as tool_use and
    tool_result blocks."""
    options = request.options
    prompt = request.prompt
    places = options.cache.places if options.cache is not None else ()
    control = _cache_control(options.cache)
    messages = [
        {"role": m["role"], "content": [_anthropic_block(b) for b in m["content"]]}
        for m in prompt.history
    ]
    if messages and messages[-1]["content"] and "conversation" in places:
        messages[-1]["content"][-1]["cache_control"] = control
    content = [_anthropic_block(block) for block in prompt.user_blocks]
    prefix = prompt.prefix_chars
    if "prefix" in places and prefix > 0:
        content.append({"type": "text", "text": prompt.user[:prefix], "cache_control": control})
        if prompt.user[prefix:]:
            content.append({"type": "text", "text": prompt.user[prefix:]})
    elif prompt.user or not content:  # a tool-result-only turn has no text block
        content.append({"type": "text", "text": prompt.user})
    messages.append({"role": "user", "content": content})
    body: dict[str, Any] = {
        "anthropic_version": ANTHROPIC_VERSION,
        "max_tokens": request.max_tokens,
        "messages": messages,
    }
    if prompt.system:
        if "system" in places:
            body["system"] = [{"type": "text", "text": prompt.system, "cache_control": control}]
        else:
            body["system"] = prompt.system
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if options.tools is not None:
        tools: list[dict[str, Any]] = [
            {
                "name": spec["name"],
                **({"description": spec["description"]} if spec.get("description") else {}),
                "input_schema": spec.get("input_schema") or {"type": "object"},
            }
            for spec in options.tools.specs
        ]
        if tools and "tools" in places:
            tools[-1]["cache_control"] = control
        body["tools"] = tools
        if options.tools.choice is not None:
            choice = options.tools.choice
            body["tool_choice"] = (
                {"type": choice} if choice in ("auto", "any") else {"type": "tool", "name": choice}
            )
    if options.reasoning is not None:
        body["thinking"] = anthropic_thinking(request.model, options.reasoning)
    return body


def _cache_control(cache: CacheOption | None) -> dict[str, Any]:
    control: dict[str, Any] = {"type": "ephemeral"}
    if cache is not None and cache.ttl is not None:
        control["ttl"] = cache.ttl
    return control


def _anthropic_block(block: Mapping[str, Any]) -> dict[str, Any]:
    """A Converse content block (the shape Prompt.history keeps) as an Anthropic one."""
    if "text" in block:
        return {"type": "text", "text": block["text"]}
    if "toolUse" in block:
        use = block["toolUse"]
        return {
            "type": "tool_use",
            "id": use["toolUseId"],
            "name": use["name"],
            "input": use["input"],
        }
    if "toolResult" in block:
        result = block["toolResult"]
        converted: dict[str, Any] = {
            "type": "tool_result",
            "tool_use_id": result["toolUseId"],
            "content": [
                {
                    "type": "text",
                    "text": part["text"] if "text" in part else json.dumps(part.get("json")),
                }
                for part in result.get("content") or ()
            ],
        }
        if result.get("status") == "error":
            converted["is_error"] = True
        return converted
    raise UnsupportedOption(f"a history block loadgen cannot write as Anthropic's: {sorted(block)}")


def _nova_body(request: Request) -> dict[str, Any]:
    """Nova's messages-v1 body: the same messages, system and toolConfig as Converse, and
    `reasoningConfig` inside inferenceConfig (Nova 2's InvokeModel request schema)."""
    options = request.options
    places = options.cache.places if options.cache is not None else ()
    inference: dict[str, Any] = {"maxTokens": request.max_tokens}
    if request.temperature is not None:
        inference["temperature"] = request.temperature
    if request.top_p is not None:
        inference["topP"] = request.top_p
    if options.reasoning is not None:
        inference["reasoningConfig"] = nova_reasoning_config(request.model, options.reasoning)
    body: dict[str, Any] = {
        "schemaVersion": "messages-v1",
        "messages": converse_messages(request),
        "inferenceConfig": inference,
    }
    if request.prompt.system:
        body["system"] = [{"text": request.prompt.system}]
        if "system" in places:
            body["system"].append(cache_point_block(options.cache))
    if options.tools is not None:
        body["toolConfig"] = tool_config(
            options.tools, options.cache if "tools" in places else None
        )
    return body


# InvokeModel and InvokeModelWithResponseStream carry these options as HTTP headers
# (bedrock-runtime's InvokeModelRequest members with "location": "header"): the SDK's
# parameter name, the header the signed path writes.
_HEADER_PARAMETERS = {
    "serviceTier": "X-Amzn-Bedrock-Service-Tier",
    "performanceConfigLatency": "X-Amzn-Bedrock-PerformanceConfig-Latency",
    "guardrailIdentifier": "X-Amzn-Bedrock-GuardrailIdentifier",
    "guardrailVersion": "X-Amzn-Bedrock-GuardrailVersion",
    "trace": "X-Amzn-Bedrock-Trace",
}


def invoke_parameters(request: Request) -> dict[str, str]:
    """The InvokeModel parameters the options set besides the body, by the SDK's names."""
    options = request.options
    parameters: dict[str, str] = {}
    if options.service_tier is not None:
        parameters["serviceTier"] = options.service_tier
    if options.latency is not None:
        parameters["performanceConfigLatency"] = options.latency
    if options.guardrail is not None:
        parameters["guardrailIdentifier"] = options.guardrail.identifier
        parameters["guardrailVersion"] = options.guardrail.version
        # InvokeModel's Trace enum is upper case (ENABLED | DISABLED | ENABLED_FULL).
        parameters["trace"] = options.guardrail.trace.upper()
    return parameters


def invoke_headers(parameters: Mapping[str, str]) -> dict[str, str]:
    """`invoke_parameters` as the HTTP headers the signed path sends."""
    return {_HEADER_PARAMETERS[name]: value for name, value in parameters.items()}


def read_response(family: ModelFamily, body: dict[str, Any], timeline: Timeline) -> bool:
    """Fill usage and stop reason from an InvokeModel body; False if it is not a full answer."""
    usage = body.get("usage")
    if family is ModelFamily.ANTHROPIC:
        timeline.keep_text(texts_of(body.get("content")))
        timeline.reasoning_chars += reasoning_chars_of(body.get("content"))
        timeline.stop_reason = body.get("stop_reason")
        if isinstance(usage, dict):
            _anthropic_usage(usage, timeline)
        return isinstance(body.get("content"), list) and isinstance(usage, dict)
    timeline.stop_reason = body.get("stopReason")
    output = body.get("output")
    if isinstance(output, dict):
        content = (output.get("message") or {}).get("content")
        timeline.keep_text(texts_of(content))
        timeline.reasoning_chars += reasoning_chars_of(content)
    if isinstance(usage, dict):
        _nova_usage(usage, timeline)
    return isinstance(output, dict) and isinstance(usage, dict)


def texts_of(content: Any) -> str:
    """The text of a content list ([{"text": ...}, ...]) as both Converse and the native bodies
    write it; other blocks (tool use, images) have none."""
    if not isinstance(content, list):
        return ""
    return "".join(
        b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str)
    )


def reasoning_chars_of(content: Any) -> int:
    """Characters of reasoning in a whole answer's content, for the reasoning tokens estimate
    (no body counts them apart): Converse and Nova's {"reasoningContent": {"reasoningText":
    {"text"}}}, Anthropic's {"type": "thinking", "thinking"}."""
    if not isinstance(content, list):
        return 0
    total = 0
    for block in content:
        if not isinstance(block, dict):
            continue
        if "reasoningContent" in block:
            text = ((block["reasoningContent"] or {}).get("reasoningText") or {}).get("text")
        elif block.get("type") == "thinking":
            text = block.get("thinking")
        else:
            continue
        if isinstance(text, str):
            total += len(text)
    return total


@dataclass
class StreamState:
    """What one InvokeModelWithResponseStream has said so far."""

    family: ModelFamily
    stopped: bool = False  # Anthropic message_stop, or Nova messageStop + metadata
    saw_metadata: bool = False
    saw_invocation_metrics: bool = False

    def missing(self) -> list[str]:
        """The events a complete stream has and this one lacked."""
        missing = []
        if self.family is ModelFamily.ANTHROPIC and not self.stopped:
            missing.append("message_stop")
        if self.family is ModelFamily.NOVA:
            if not self.stopped:
                missing.append("messageStop")
            if not self.saw_metadata:
                missing.append("metadata")
        if not self.saw_invocation_metrics:
            missing.append(INVOCATION_METRICS)
        return missing


def read_chunk(state: StreamState, chunk: dict[str, Any], timeline: Timeline) -> None:
    """Apply one decoded stream chunk to the timeline (content, usage, server timings)."""
    if state.family is ModelFamily.ANTHROPIC:
        _anthropic_chunk(state, chunk, timeline)
    else:
        _nova_chunk(state, chunk, timeline)
    metrics = chunk.get(INVOCATION_METRICS)
    if isinstance(metrics, dict):
        state.saw_invocation_metrics = True
        read_invocation_metrics(metrics, timeline)


def read_invocation_metrics(metrics: dict[str, Any], timeline: Timeline) -> None:
    latency, first_byte = metrics.get("invocationLatency"), metrics.get("firstByteLatency")
    if latency is not None:
        timeline.server_latency_ms = int(latency)
    if first_byte is not None:
        timeline.server_first_byte_ms = int(first_byte)
    # The native body's usage wins; Bedrock's counts fill what it left out.
    if timeline.input_tokens is None and metrics.get("inputTokenCount") is not None:
        timeline.input_tokens = int(metrics["inputTokenCount"])
    if timeline.output_tokens is None and metrics.get("outputTokenCount") is not None:
        timeline.output_tokens = int(metrics["outputTokenCount"])


def _anthropic_chunk(state: StreamState, chunk: dict[str, Any], timeline: Timeline) -> None:
    kind = chunk.get("type")
    if kind == "content_block_delta":
        delta = chunk.get("delta") or {}
        text = delta.get("text")  # text_delta: nearly every chunk, so tried first
        if text:
            timeline.mark_content(text)
        else:
            delta_type = delta.get("type")
            if delta_type == "thinking_delta":
                timeline.mark_reasoning(delta.get("thinking") or "")
            elif delta_type == "signature_delta":
                timeline.mark_reasoning()
            elif delta_type == "input_json_delta":
                timeline.mark_tool_use(input_part=delta.get("partial_json") or "")
    elif kind == "content_block_start":
        block = chunk.get("content_block") or {}
        block_type = block.get("type")
        if block_type == "tool_use":
            timeline.mark_tool_use(block.get("id"), block.get("name"))
        elif block_type == "redacted_thinking":  # encrypted reasoning, whole in its start
            timeline.mark_reasoning()
    elif kind == "message_start":
        usage = (chunk.get("message") or {}).get("usage")
        if isinstance(usage, dict):
            _anthropic_usage(usage, timeline)
    elif kind == "message_delta":
        timeline.stop_reason = (chunk.get("delta") or {}).get("stop_reason")
        usage = chunk.get("usage") or {}
        if usage.get("output_tokens") is not None:  # cumulative: the last one is the total
            timeline.output_tokens = int(usage["output_tokens"])
    elif kind == "message_stop":
        state.stopped = True


def _nova_chunk(state: StreamState, chunk: dict[str, Any], timeline: Timeline) -> None:
    if "contentBlockDelta" in chunk:
        delta = (chunk["contentBlockDelta"] or {}).get("delta") or {}
        text = delta.get("text")
        if text:
            timeline.mark_content(text)
        elif "reasoningContent" in delta:
            timeline.mark_reasoning((delta["reasoningContent"] or {}).get("text") or "")
        elif "toolUse" in delta:
            timeline.mark_tool_use(input_part=(delta["toolUse"] or {}).get("input") or "")
    elif "contentBlockStart" in chunk:
        start = ((chunk["contentBlockStart"] or {}).get("start") or {}).get("toolUse")
        if start is not None:
            timeline.mark_tool_use(start.get("toolUseId"), start.get("name"))
    elif "messageStop" in chunk:
        state.stopped = True
        timeline.stop_reason = (chunk["messageStop"] or {}).get("stopReason")
    elif "metadata" in chunk:
        state.saw_metadata = True
        usage = (chunk["metadata"] or {}).get("usage")
        if isinstance(usage, dict):
            _nova_usage(usage, timeline)


def _anthropic_usage(usage: dict[str, Any], timeline: Timeline) -> None:
    timeline.input_tokens = usage.get("input_tokens", timeline.input_tokens)
    timeline.output_tokens = usage.get("output_tokens", timeline.output_tokens)
    timeline.cache_read_tokens = usage.get("cache_read_input_tokens")
    timeline.cache_write_tokens = usage.get("cache_creation_input_tokens")


def _nova_usage(usage: dict[str, Any], timeline: Timeline) -> None:
    timeline.input_tokens = usage.get("inputTokens")
    timeline.output_tokens = usage.get("outputTokens")
    timeline.cache_read_tokens = usage.get("cacheReadInputTokenCount")
    timeline.cache_write_tokens = usage.get("cacheWriteInputTokenCount")
