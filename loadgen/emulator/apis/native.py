"""The model-native bodies InvokeModel carries: Anthropic Messages and Amazon Nova.

Each family reads its request body and writes a plan as its own response JSON: one object for
InvokeModel, a list of event objects for InvokeModelWithResponseStream (each becomes one
`chunk`; the last one also carries amazon-bedrock-invocationMetrics).
"""

from __future__ import annotations

from typing import Any, Protocol

from loadgen.emulator.apis.base import positive_int, prompt_of
from loadgen.emulator.apis.blocks import ConverseBlocks, message_content
from loadgen.emulator.apis.content import ContentReader, anthropic_options, converse_options
from loadgen.emulator.guardrail import trace
from loadgen.emulator.plan import DeltaKind, ResponsePlan
from loadgen.emulator.request_options import RequestOptions


class NativeFamily(Protocol):
    name: str

    def read(self, body: dict[str, Any]) -> tuple[str, int, int | None]:
        """(prompt, input tokens, max tokens); ValueError when the body is not valid."""
        ...

    def read_options(self, body: dict[str, Any], tier: Any) -> tuple[str, int, RequestOptions]:
        """(prompt, input tokens, options), the content read as the model reads it
        (apis/content.py); the service tier comes from a header."""
        ...

    def message(self, plan: ResponsePlan) -> dict[str, Any]: ...
    def start_events(self, plan: ResponsePlan) -> list[dict[str, Any]]: ...
    def delta_event(self, text: str) -> dict[str, Any]: ...
    def end_events(self, plan: ResponsePlan) -> list[dict[str, Any]]: ...
    def blocks(self, plan: ResponsePlan) -> NativeBlocks:
        """The stream of an answer with options: its blocks opened and closed in turn."""
        ...


class NativeBlocks(Protocol):
    def start(self) -> list[dict[str, Any]]: ...
    def delta(self, text: str, kind: DeltaKind) -> list[dict[str, Any]]: ...
    def end(self) -> list[dict[str, Any]]: ...


# Bedrock's stop reasons as Anthropic's stop_reason values (Anthropic's Messages API:
# end_turn, max_tokens, stop_sequence, tool_use, pause_turn, refusal,
# model_context_window_exceeded); a content filter's stop is Anthropic's refusal.
_ANTHROPIC_STOP = {
    "end_turn": "end_turn",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "tool_use": "tool_use",
    "content_filtered": "refusal",
    "guardrail_intervened": "refusal",
    "model_context_window_exceeded": "model_context_window_exceeded",
}


class AnthropicMessages:
    """anthropic_version, max_tokens (required), system, messages."""

    name = "anthropic"

    def read(self, body: dict[str, Any]) -> tuple[str, int, int | None]:
        if "max_tokens" not in body:
            raise ValueError("required key [max_tokens] not found")
        if not isinstance(body.get("messages"), list):
            raise ValueError("required key [messages] not found")
        prompt, tokens = prompt_of(body.get("system"), body.get("messages"))
        return prompt, tokens, positive_int(body["max_tokens"], "max_tokens")

    def read_options(self, body: dict[str, Any], tier: Any) -> tuple[str, int, RequestOptions]:
        reader = ContentReader()  # tools, system, messages: the order a cache prefix has
        reader.anthropic_tools(body.get("tools"))
        reader.anthropic_blocks(body.get("system"))
        reader.anthropic_messages(body.get("messages"))
        return reader.prompt, reader.input_tokens, anthropic_options(body, reader, tier)

    def blocks(self, plan: ResponsePlan) -> AnthropicBlocks:
        return AnthropicBlocks(plan, self._id(plan))

    def _id(self, plan: ResponsePlan) -> str:
        return "msg_bdrk_" + plan.request_id.replace("-", "")[:24]

    def message(self, plan: ResponsePlan) -> dict[str, Any]:
        if plan.options:
            return {
                **self._message(plan),
                "content": anthropic_content(plan),
                "usage": anthropic_usage(plan, plan.output_tokens),
                **guardrail_fields(plan),
            }
        return self._message(plan)

    def _message(self, plan: ResponsePlan) -> dict[str, Any]:
        return {
            "id": self._id(plan),
            "type": "message",
            "role": "assistant",
            "model": plan.model_id,
            "content": [{"type": "text", "text": plan.text}],
            "stop_reason": _ANTHROPIC_STOP[plan.stop_reason],
            "stop_sequence": None,
            "usage": {"input_tokens": plan.input_tokens, "output_tokens": plan.output_tokens},
        }

    def start_events(self, plan: ResponsePlan) -> list[dict[str, Any]]:
        message: dict[str, Any] = {
            "id": self._id(plan),
            "type": "message",
            "role": "assistant",
            "model": plan.model_id,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": plan.input_tokens, "output_tokens": 1},
        }
        return [
            {"type": "message_start", "message": message},
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ]

    def delta_event(self, text: str) -> dict[str, Any]:
        return {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text},
        }

    def end_events(self, plan: ResponsePlan) -> list[dict[str, Any]]:
        return [
            {"type": "content_block_stop", "index": 0},
            {
                "type": "message_delta",
                "delta": {"stop_reason": _ANTHROPIC_STOP[plan.stop_reason], "stop_sequence": None},
                "usage": {"output_tokens": plan.output_tokens},
            },
            {"type": "message_stop"},
        ]


class NovaMessages:
    """Amazon Nova's messages-v1 body: system [{text}], messages, inferenceConfig.maxTokens."""

    name = "nova"

    def read(self, body: dict[str, Any]) -> tuple[str, int, int | None]:
        if not isinstance(body.get("messages"), list):
            raise ValueError("required key [messages] not found")
        config = body.get("inferenceConfig")
        limit = config.get("maxTokens") if isinstance(config, dict) else None
        prompt, tokens = prompt_of(body.get("system"), body.get("messages"))
        return prompt, tokens, positive_int(limit, "inferenceConfig.maxTokens")

    def read_options(self, body: dict[str, Any], tier: Any) -> tuple[str, int, RequestOptions]:
        reader = ContentReader()
        config = body.get("toolConfig")
        if isinstance(config, dict):
            reader.converse_tools(config.get("tools"))
        reader.converse_blocks(body.get("system"))
        reader.converse_messages(body.get("messages"))
        # The tier is the header's only: a Nova body has no serviceTier of its own.
        options = converse_options({**body, "serviceTier": None}, reader, tier)
        return reader.prompt, reader.input_tokens, options

    def blocks(self, plan: ResponsePlan) -> NovaBlocks:
        return NovaBlocks(plan)

    def _usage(self, plan: ResponsePlan) -> dict[str, int]:
        return plan.usage

    def message(self, plan: ResponsePlan) -> dict[str, Any]:
        if plan.options:
            return {
                "output": {"message": {"role": "assistant", "content": message_content(plan)}},
                "stopReason": plan.stop_reason,
                "usage": nova_usage(plan),
                **guardrail_fields(plan),
            }
        return {
            "output": {"message": {"role": "assistant", "content": [{"text": plan.text}]}},
            "stopReason": plan.stop_reason,
            "usage": self._usage(plan),
        }

    def start_events(self, plan: ResponsePlan) -> list[dict[str, Any]]:
        return [{"messageStart": {"role": "assistant"}}]

    def delta_event(self, text: str) -> dict[str, Any]:
        return {"contentBlockDelta": {"delta": {"text": text}, "contentBlockIndex": 0}}

    def end_events(self, plan: ResponsePlan) -> list[dict[str, Any]]:
        usage = {"inputTokens": plan.input_tokens, "outputTokens": plan.output_tokens}
        return [
            {"contentBlockStop": {"contentBlockIndex": 0}},
            {"messageStop": {"stopReason": plan.stop_reason}},
            {"metadata": {"usage": usage, "metrics": {}, "trace": {}}},
        ]


def anthropic_usage(plan: ResponsePlan, output_tokens: int) -> dict[str, int]:
    usage = {"input_tokens": plan.input_tokens, "output_tokens": output_tokens}
    if plan.cache is not None:
        usage["cache_creation_input_tokens"] = plan.cache.write_tokens
        usage["cache_read_input_tokens"] = plan.cache.read_tokens
    return usage


def nova_usage(plan: ResponsePlan) -> dict[str, int]:
    usage = {"inputTokens": plan.input_tokens, "outputTokens": plan.output_tokens}
    if plan.cache is not None:
        usage["cacheReadInputTokenCount"] = plan.cache.read_tokens
        usage["cacheWriteInputTokenCount"] = plan.cache.write_tokens
    return usage


def guardrail_fields(plan: ResponsePlan) -> dict[str, Any]:
    """InvokeModel with a guardrail: amazon-bedrock-guardrailAction, and the trace when the
    request's X-Amzn-Bedrock-Trace enabled it."""
    guardrail = plan.guardrail
    if guardrail is None:
        return {}
    fields: dict[str, Any] = {
        "amazon-bedrock-guardrailAction": "INTERVENED" if guardrail.intervened else "NONE"
    }
    if guardrail.ask.trace:
        fields["amazon-bedrock-trace"] = {"guardrail": trace(guardrail, len(plan.text))}
    return fields


def anthropic_content(plan: ResponsePlan) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = []
    if plan.reasoning_texts:
        thinking = "".join(plan.reasoning_texts)
        content.append({"type": "thinking", "thinking": thinking, "signature": plan.signature})
    if plan.texts:
        content.append({"type": "text", "text": plan.text})
    if plan.tool is not None:
        tool = plan.tool
        content.append(
            {"type": "tool_use", "id": tool.tool_use_id, "name": tool.name, "input": tool.input}
        )
    return content


class AnthropicBlocks:
    """Anthropic's stream: content_block_start for every block (thinking, text, tool_use),
    thinking_delta / text_delta / input_json_delta, a signature_delta closing the thinking
    block, content_block_stop; message_delta with the stop reason and output tokens."""

    def __init__(self, plan: ResponsePlan, message_id: str) -> None:
        self.plan = plan
        self.message_id = message_id
        self.index = -1
        self.kind: DeltaKind | None = None

    def start(self) -> list[dict[str, Any]]:
        message: dict[str, Any] = {
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "model": self.plan.model_id,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": anthropic_usage(self.plan, 1),
        }
        return [{"type": "message_start", "message": message}]

    def delta(self, text: str, kind: DeltaKind) -> list[dict[str, Any]]:
        events = self._switch(kind) if kind != self.kind else []
        if kind == "reasoning":
            delta = {"type": "thinking_delta", "thinking": text}
        elif kind == "tool":
            delta = {"type": "input_json_delta", "partial_json": text}
        else:
            delta = {"type": "text_delta", "text": text}
        events.append({"type": "content_block_delta", "index": self.index, "delta": delta})
        return events

    def _close(self) -> list[dict[str, Any]]:
        if self.kind is None:
            return []
        events: list[dict[str, Any]] = []
        if self.kind == "reasoning":
            delta = {"type": "signature_delta", "signature": self.plan.signature}
            events.append({"type": "content_block_delta", "index": self.index, "delta": delta})
        events.append({"type": "content_block_stop", "index": self.index})
        return events

    def _switch(self, kind: DeltaKind) -> list[dict[str, Any]]:
        events = self._close()
        self.index += 1
        self.kind = kind
        tool = self.plan.tool
        if kind == "tool" and tool is not None:
            block: dict[str, Any] = {
                "type": "tool_use",
                "id": tool.tool_use_id,
                "name": tool.name,
                "input": {},
            }
        elif kind == "reasoning":
            block = {"type": "thinking", "thinking": ""}
        else:
            block = {"type": "text", "text": ""}
        events.append({"type": "content_block_start", "index": self.index, "content_block": block})
        return events

    def end(self) -> list[dict[str, Any]]:
        stop = _ANTHROPIC_STOP[self.plan.stop_reason]
        return [
            *self._close(),
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": self.plan.output_tokens},
            },
            {"type": "message_stop", **guardrail_fields(self.plan)},
        ]


class NovaBlocks:
    """Nova's stream: ConverseStream's events (apis/blocks.py), each wrapped in an object."""

    def __init__(self, plan: ResponsePlan) -> None:
        self.plan = plan
        self.blocks = ConverseBlocks(plan)

    def start(self) -> list[dict[str, Any]]:
        return [{"messageStart": {"role": "assistant"}}]

    def delta(self, text: str, kind: DeltaKind) -> list[dict[str, Any]]:
        return [{name: payload} for name, payload in self.blocks.delta(text, kind)]

    def end(self) -> list[dict[str, Any]]:
        metadata = {"usage": nova_usage(self.plan), "metrics": {}, "trace": {}}
        guard = guardrail_fields(self.plan)
        if "amazon-bedrock-trace" in guard:
            metadata["trace"] = guard.pop("amazon-bedrock-trace")
        return [
            *({name: payload} for name, payload in self.blocks.close()),
            {"messageStop": {"stopReason": self.plan.stop_reason}},
            {"metadata": metadata, **guard},
        ]


ANTHROPIC = AnthropicMessages()
NOVA = NovaMessages()


def family_for(base_model_id: str, body: dict[str, Any]) -> NativeFamily:
    """By the model id (anthropic.*, amazon.nova*); for other ids, by the body's shape."""
    if base_model_id.startswith("anthropic."):
        return ANTHROPIC
    if base_model_id.startswith("amazon.nova"):
        return NOVA
    return ANTHROPIC if "anthropic_version" in body else NOVA
