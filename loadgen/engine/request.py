"""What one request asks, as the plan hands it to the runner and the runner to a backend.

Plain frozen records: loadgen/plan/ builds them from the scenario and the seed, the runner
(loadgen/engine/runner.py) sends each `Planned` at its offset, and a backend reads the `Request`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# Where a cache point goes (docs/scenario.md "inference.cache"): after the system prompt,
# after the tool definitions, after the shared prefix of the user text (Prompt.prefix_chars),
# after the conversation so far (the last message of Prompt.history).
CachePlace = Literal["system", "tools", "prefix", "conversation"]
CacheTtl = Literal["5m", "1h"]
ReasoningEffort = Literal["low", "medium", "high"]
ServiceTier = Literal["priority", "default", "flex", "reserved"]
LatencyMode = Literal["standard", "optimized"]
GuardrailTrace = Literal["enabled", "disabled", "enabled_full"]


@dataclass(frozen=True, slots=True)
class CacheOption:
    """Prompt caching: a cache point after each place named, with the TTL where the model
    offers a choice (None: the model's default, 5 minutes)."""

    places: tuple[CachePlace, ...]
    ttl: CacheTtl | None = None


@dataclass(frozen=True, slots=True)
class ReasoningOption:
    """Extended thinking / reasoning: a token budget (Anthropic `thinking.budget_tokens`) or an
    effort (Nova 2 `reasoningConfig`, gpt-oss and OpenAI `reasoning_effort`), per family."""

    budget_tokens: int | None = None
    effort: ReasoningEffort | None = None


@dataclass(frozen=True, slots=True)
class ToolOption:
    """Tools the model may call. Each spec is {"name", "description", "input_schema"} (a JSON
    schema object); `choice` is "auto", "any", or the name of one tool (None: the API's own
    default)."""

    specs: tuple[Mapping[str, Any], ...]
    choice: str | None = None


@dataclass(frozen=True, slots=True)
class GuardrailOption:
    identifier: str
    version: str
    trace: GuardrailTrace = "disabled"


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """What a request asks of the API besides its prompt: each None leaves the field out of
    the request, as a plain request today (docs/scenario.md "Request options")."""

    cache: CacheOption | None = None
    reasoning: ReasoningOption | None = None
    tools: ToolOption | None = None
    service_tier: ServiceTier | None = None
    latency: LatencyMode | None = None  # performanceConfig.latency
    guardrail: GuardrailOption | None = None
    # Passed through as they are: Converse's additionalModelRequestFields, merged into an
    # InvokeModel body, sent as extra fields of an OpenAI chat request.
    additional_fields: Mapping[str, Any] | None = None


NO_OPTIONS = RequestOptions()


@dataclass(frozen=True, slots=True)
class SessionScript:
    """What a session's later turns send (docs/scenario.md "Conversations"): the runner sends
    turn k + 1 when turn k has ended and think_ns has passed, with the user text
    follow_ups[(k - 1) % len], after the conversation so far."""

    turns: int
    follow_ups: tuple[str, ...]
    think_ns: int = 0
    # The toolResult text the next user turn sends after an answer that asked for a tool.
    tool_result: str = '{"status": "ok"}'


@dataclass(frozen=True, slots=True)
class Prompt:
    """What one request asks: the rendered user text, the system text, the row it came from."""

    row_id: str
    system: str | None
    user: str
    # A synthetic prompt's shape (loadgen/plan/synthetic.py): the input tokens its text was
    # made to, and the output tokens it asks for (the request's max_tokens). None for rows.
    input_tokens: int | None = None
    output_tokens: int | None = None
    # Ask an OpenAI-compatible server to ignore end-of-sequence (vLLM, SGLang honour it).
    ignore_eos: bool = False
    # The conversation before this turn, as Converse messages ({"role": "user" | "assistant",
    # "content": [blocks]}; blocks {"text"}, {"toolUse"}, {"toolResult"}): each backend
    # writes them in its API's own shape. Empty for a single-turn request.
    history: tuple[Mapping[str, Any], ...] = ()
    # Blocks of this turn's user message that come before its text (a {"toolResult"} answering
    # the last assistant message's toolUse).
    user_blocks: tuple[Mapping[str, Any], ...] = ()
    # The first prefix_chars characters of `user` are shared by many requests: a "prefix"
    # cache point goes after them (0: no shared prefix).
    prefix_chars: int = 0


@dataclass(frozen=True, slots=True)
class Request:
    request_id: int
    model: str
    prompt: Prompt
    max_tokens: int
    temperature: float | None = None
    top_p: float | None = None
    api: str | None = None  # which API carries it when a run uses two (compare_streaming)
    options: RequestOptions = field(default=NO_OPTIONS)
    # A conversation's requests share a session id; turn counts from 1. None: not a session.
    session_id: int | None = None
    turn: int | None = None
    # A session's script (every turn carries it; None: a single request). The ids
    # session_id .. session_id + turns - 1 are the session's, reserved by the planner.
    session: SessionScript | None = None


@dataclass(frozen=True, slots=True)
class Planned:
    """One scheduled request: its offset from the phase start and what it asks."""

    offset_ns: int
    request: Request
    warmup: bool
