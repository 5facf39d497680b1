"""A session's next turn: the conversation so far, grown by the turn that has just ended
(docs/scenario.md "Conversations").

The history gains the previous user message (its toolResult blocks, then its text) and the
assistant's answer: its text, and a toolUse block for each tool call it asked for. After a
tool-use answer the next user message starts with a toolResult for each call, carrying the
script's canned result text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from loadgen.engine.backend import ToolCall
from loadgen.engine.request import Request

TOOL_USE_STOP = "tool_use"
# The answer of a turn that produced neither text nor a tool call (e.g. reasoning only):
# Bedrock refuses an empty message, so the history carries this instead.
EMPTY_ANSWER = "(no answer)"


def next_turn(
    request: Request, answer_text: str, stop_reason: str | None, tool_calls: Sequence[ToolCall]
) -> Request:
    """Turn `request.turn + 1` of the session that `request` belongs to."""
    script = request.session
    assert script is not None and request.turn is not None
    prompt = request.prompt
    asked = [_tool_use_block(call, request, index) for index, call in enumerate(tool_calls)]
    if stop_reason == TOOL_USE_STOP and not asked:
        # The backend did not keep the call (its API streams none we read): a stand-in with
        # the first tool's name keeps the history valid, a toolUse answered by a toolResult.
        asked = [_tool_use_block(ToolCall(None, _first_tool(request)), request, 0)]
    answer: list[Mapping[str, Any]] = [{"text": answer_text}] if answer_text.strip() else []
    answer += asked
    if not answer:
        answer = [{"text": EMPTY_ANSWER}]
    user_message = {"role": "user", "content": [*prompt.user_blocks, {"text": prompt.user}]}
    results = tuple(
        {
            "toolResult": {
                "toolUseId": block["toolUse"]["toolUseId"],
                "content": [{"text": script.tool_result}],
            }
        }
        for block in asked
    )
    follow_up = script.follow_ups[(request.turn - 1) % len(script.follow_ups)]
    return replace(
        request,
        request_id=request.request_id + 1,
        turn=request.turn + 1,
        prompt=replace(
            prompt,
            history=(*prompt.history, user_message, {"role": "assistant", "content": answer}),
            user=follow_up,
            user_blocks=results,
            prefix_chars=0,  # a follow-up shares no prefix with other prompts
        ),
    )


def _tool_use_block(call: ToolCall, request: Request, index: int) -> dict[str, Any]:
    try:
        tool_input = json.loads(call.input_json) if call.input_json.strip() else {}
    except json.JSONDecodeError:
        tool_input = {}  # a call cut short: its input is not needed to answer it
    if not isinstance(tool_input, dict):
        tool_input = {}
    # An id of Bedrock's ToolUseId alphabet, unique within the session.
    tool_use_id = call.tool_use_id or f"tooluse_{request.session_id}_{request.turn}_{index}"
    return {
        "toolUse": {
            "toolUseId": tool_use_id,
            "name": call.name or _first_tool(request),
            "input": tool_input,
        }
    }


def _first_tool(request: Request) -> str:
    tools = request.options.tools
    if tools is None or not tools.specs:
        return "tool"
    if tools.choice not in (None, "auto", "any"):
        return str(tools.choice)
    return str(tools.specs[0]["name"])
