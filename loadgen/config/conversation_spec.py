"""Sessions of several turns (docs/scenario.md "Conversations"): each scheduled arrival starts a
session; turn 1 is the row's prompt, each later turn is sent when the previous one has ended
(and think_time has passed), with the conversation so far as its history."""

from __future__ import annotations

from pydantic import Field, field_validator

from loadgen.config.base import Seconds, StrictModel

DEFAULT_TOOL_RESULT = '{"status": "ok"}'


class ConversationSpec(StrictModel):
    turns: int = Field(ge=2, le=100, description="requests per session, the first included")
    think_time: Seconds = Field(0.0, ge=0, le=3600, description="pause after each answer")
    # The user text of turns 2, 3, ... in turn (cycled when shorter): a list, or the name of a
    # dataset field that holds each row's own list.
    follow_ups: list[str] | str = Field(min_length=1)
    # What the user turn after a tool-use answer sends back as the tool's result.
    tool_result: str = Field(DEFAULT_TOOL_RESULT, min_length=1)

    @field_validator("follow_ups")
    @classmethod
    def _texts(cls, value: list[str] | str) -> list[str] | str:
        if isinstance(value, list) and any(not text.strip() for text in value):
            raise ValueError("each follow-up needs some text (Bedrock refuses an empty message)")
        return value

    def follow_up_field(self) -> str | None:
        """The dataset field that holds each row's follow-ups, if they come from the rows."""
        return self.follow_ups if isinstance(self.follow_ups, str) else None
