"""The content blocks of an answer with options, in Converse's shapes (ConverseStream events, and
Nova's native stream chunks, which are the same events wrapped in an object): a reasoning block
(`reasoningContent.text` deltas, one `signature` delta at its end), a text block, a toolUse
block (contentBlockStart {toolUse {toolUseId, name}}, `toolUse.input` deltas of its JSON).
Each block has its own contentBlockIndex and ends with contentBlockStop."""

from __future__ import annotations

from typing import Any

from loadgen.emulator.guardrail import trace
from loadgen.emulator.plan import DeltaKind, ResponsePlan

Event = tuple[str, dict[str, Any]]  # (event type, payload)


class ConverseBlocks:
    def __init__(self, plan: ResponsePlan) -> None:
        self.plan = plan
        self.index = -1
        self.kind: DeltaKind | None = None

    def delta(self, text: str, kind: DeltaKind) -> list[Event]:
        """The events before this delta (closing the block before it, opening its own), then
        the delta itself, last."""
        events = self._switch(kind) if kind != self.kind else []
        if kind == "reasoning":
            delta: dict[str, Any] = {"reasoningContent": {"text": text}}
        elif kind == "tool":
            delta = {"toolUse": {"input": text}}
        else:
            delta = {"text": text}
        events.append(("contentBlockDelta", {"contentBlockIndex": self.index, "delta": delta}))
        return events

    def close(self) -> list[Event]:
        """What ends the last block, if one was opened."""
        if self.kind is None:
            return []
        events: list[Event] = []
        if self.kind == "reasoning":
            signature = {"reasoningContent": {"signature": self.plan.signature}}
            events.append(
                ("contentBlockDelta", {"contentBlockIndex": self.index, "delta": signature})
            )
        events.append(("contentBlockStop", {"contentBlockIndex": self.index}))
        return events

    def _switch(self, kind: DeltaKind) -> list[Event]:
        events = self.close()
        self.index += 1
        self.kind = kind
        tool = self.plan.tool
        if kind == "tool" and tool is not None:
            start = {"toolUse": {"toolUseId": tool.tool_use_id, "name": tool.name}}
            events.append(("contentBlockStart", {"contentBlockIndex": self.index, "start": start}))
        return events


def message_content(plan: ResponsePlan) -> list[dict[str, Any]]:
    """A whole answer's content blocks (Converse output.message.content)."""
    content: list[dict[str, Any]] = []
    if plan.reasoning_texts:
        text = "".join(plan.reasoning_texts)
        content.append(
            {"reasoningContent": {"reasoningText": {"text": text, "signature": plan.signature}}}
        )
    if plan.texts:
        content.append({"text": plan.text})
    if plan.tool is not None:
        tool = plan.tool
        content.append(
            {"toolUse": {"toolUseId": tool.tool_use_id, "name": tool.name, "input": tool.input}}
        )
    return content


def option_metadata(plan: ResponsePlan) -> dict[str, Any]:
    """What a Converse response adds for the options: the guardrail's trace (when asked) and
    the tier that served (when one was asked)."""
    extra: dict[str, Any] = {}
    guardrail = plan.guardrail
    if guardrail is not None and guardrail.ask.trace:
        extra["trace"] = {"guardrail": trace(guardrail, len(plan.text))}
    if plan.service_tier is not None:
        extra["serviceTier"] = {"type": served_tier(plan)}
    return extra


def served_tier(plan: ResponsePlan) -> str:
    """The tier the response names: reserved capacity is served as default on demand."""
    return "default" if plan.service_tier == "reserved" else str(plan.service_tier)
