"""The request body of Converse and ConverseStream, with every request option, in the shapes of
bedrock-runtime's service model (ConverseRequest): both request paths send it, the signed
path as JSON it serialises itself, the SDK path as keyword arguments to aioboto3.

Where each option goes (docs/scenario.md "Request options on the wire"):
- cache points: `{"cachePoint": {"type": "default"[, "ttl"]}}` after the system text
  ("system"), after the tool specs in toolConfig.tools ("tools"), after the first
  prefix_chars characters of the user text ("prefix"), after the content of the last message
  of the history ("conversation");
- reasoning and additional_fields: additionalModelRequestFields;
- tools: toolConfig {tools: [{toolSpec}], toolChoice: {auto: {}} | {any: {}} | {tool: {name}}};
- service_tier: serviceTier {type}; latency: performanceConfig {latency};
- guardrail: guardrailConfig {guardrailIdentifier, guardrailVersion, trace}.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loadgen.backends.request_options import merged, reasoning_fields
from loadgen.engine.request import CacheOption, Request, ToolOption


def converse_arguments(request: Request) -> dict[str, Any]:
    """Converse and ConverseStream take the same request."""
    options = request.options
    prompt = request.prompt
    cache = options.cache
    places = cache.places if cache is not None else ()
    inference: dict[str, Any] = {"maxTokens": request.max_tokens}
    if request.temperature is not None:
        inference["temperature"] = request.temperature
    if request.top_p is not None:
        inference["topP"] = request.top_p
    arguments: dict[str, Any] = {
        "modelId": request.model,
        "messages": converse_messages(request),
        "inferenceConfig": inference,
    }
    if prompt.system:
        system: list[dict[str, Any]] = [{"text": prompt.system}]
        if "system" in places:
            system.append(cache_point_block(cache))
        arguments["system"] = system
    if options.tools is not None:
        arguments["toolConfig"] = tool_config(options.tools, cache if "tools" in places else None)
    additional: dict[str, Any] = {}
    if options.reasoning is not None:
        additional = reasoning_fields(request.model, options.reasoning)
    if options.additional_fields:
        additional = merged(additional, options.additional_fields)
    if additional:
        arguments["additionalModelRequestFields"] = additional
    if options.guardrail is not None:
        # ConverseStream's GuardrailStreamConfiguration and Converse's GuardrailConfiguration
        # share these three members.
        arguments["guardrailConfig"] = {
            "guardrailIdentifier": options.guardrail.identifier,
            "guardrailVersion": options.guardrail.version,
            "trace": options.guardrail.trace,
        }
    if options.latency is not None:
        arguments["performanceConfig"] = {"latency": options.latency}
    if options.service_tier is not None:
        arguments["serviceTier"] = {"type": options.service_tier}
    return arguments


def converse_messages(request: Request) -> list[dict[str, Any]]:
    """The history, then this turn's user message: its blocks (a toolResult), then its text,
    split by a cache point after the shared prefix where the scenario asks for one. Nova's
    native InvokeModel body takes the same messages."""
    prompt = request.prompt
    cache = request.options.cache
    places = cache.places if cache is not None else ()
    messages = [
        {"role": message["role"], "content": list(message["content"])} for message in prompt.history
    ]
    if messages and "conversation" in places:
        messages[-1]["content"].append(cache_point_block(cache))
    content: list[dict[str, Any]] = [dict(block) for block in prompt.user_blocks]
    prefix = prompt.prefix_chars
    if "prefix" in places and prefix > 0:
        content.append({"text": prompt.user[:prefix]})
        content.append(cache_point_block(cache))
        if prompt.user[prefix:]:
            content.append({"text": prompt.user[prefix:]})
    elif prompt.user or not content:
        # A turn that only answers a tool call carries no text: Bedrock refuses a blank block.
        content.append({"text": prompt.user})
    messages.append({"role": "user", "content": content})
    return messages


def cache_point_block(cache: CacheOption | None) -> dict[str, Any]:
    """A CachePointBlock: type "default", and the TTL where the scenario names one."""
    point: dict[str, Any] = {"type": "default"}
    if cache is not None and cache.ttl is not None:
        point["ttl"] = cache.ttl
    return {"cachePoint": point}


def tool_config(tools: ToolOption, cache: CacheOption | None) -> dict[str, Any]:
    """ToolConfiguration; a cache point after the specs when `cache` is given."""
    specs: list[dict[str, Any]] = [{"toolSpec": tool_spec(spec)} for spec in tools.specs]
    if cache is not None:
        specs.append(cache_point_block(cache))
    config: dict[str, Any] = {"tools": specs}
    if tools.choice is not None:
        config["toolChoice"] = tool_choice(tools.choice)
    return config


def tool_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    converted: dict[str, Any] = {"name": spec["name"]}
    if spec.get("description"):
        converted["description"] = spec["description"]
    converted["inputSchema"] = {"json": spec.get("input_schema") or {"type": "object"}}
    return converted


def tool_choice(choice: str) -> dict[str, Any]:
    if choice in ("auto", "any"):
        return {choice: {}}
    return {"tool": {"name": choice}}
