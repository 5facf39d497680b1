"""The model-native bodies InvokeModel carries: Anthropic Messages and Amazon Nova.

Each family reads its request body and writes a plan as its own response JSON: one object for
InvokeModel, a list of event objects for InvokeModelWithResponseStream (each becomes one
`chunk`; the last one also carries amazon-bedrock-invocationMetrics).
"""

from __future__ import annotations

from typing import Any, Protocol

from loadgen.emulator.apis.base import positive_int, prompt_of
from loadgen.emulator.plan import ResponsePlan


class NativeFamily(Protocol):
    name: str

    def read(self, body: dict[str, Any]) -> tuple[str, int, int | None]:
        """(prompt, input tokens, max tokens); ValueError when the body is not valid."""
        ...

    def message(self, plan: ResponsePlan) -> dict[str, Any]: ...
    def start_events(self, plan: ResponsePlan) -> list[dict[str, Any]]: ...
    def delta_event(self, text: str) -> dict[str, Any]: ...
    def end_events(self, plan: ResponsePlan) -> list[dict[str, Any]]: ...


_ANTHROPIC_STOP = {"end_turn": "end_turn", "max_tokens": "max_tokens"}


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

    def _id(self, plan: ResponsePlan) -> str:
        return "msg_bdrk_" + plan.request_id.replace("-", "")[:24]

    def message(self, plan: ResponsePlan) -> dict[str, Any]:
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

    def _usage(self, plan: ResponsePlan) -> dict[str, int]:
        return plan.usage

    def message(self, plan: ResponsePlan) -> dict[str, Any]:
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


ANTHROPIC = AnthropicMessages()
NOVA = NovaMessages()


def family_for(base_model_id: str, body: dict[str, Any]) -> NativeFamily:
    """By the model id (anthropic.*, amazon.nova*); for other ids, by the body's shape."""
    if base_model_id.startswith("anthropic."):
        return ANTHROPIC
    if base_model_id.startswith("amazon.nova"):
        return NOVA
    return ANTHROPIC if "anthropic_version" in body else NOVA
