"""report.json's `replay` section, as types (re-exported by loadgen/report/schema.py, which
generates the JSON Schema from them; built by loadgen/report/replay_section.py). What each
field means is in docs/report.md, "replay"."""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict


class ReplayDistribution(TypedDict):
    """Token counts of a set of requests (null when there are none)."""

    count: int
    mean: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    max: float | None


class ReplayTokens(TypedDict):
    source: ReplayDistribution  # as logged, for the calls the replay covers
    asked: ReplayDistribution  # what the replay asked: the prompt's size, max_tokens
    replayed: ReplayDistribution  # what the server reported for the requests that succeeded


class ReplayArrivals(TypedDict):
    """Arrivals per bin of replay time, side by side: the log's calls (at their instants
    divided by speed) and the requests sent (by dispatch)."""

    bin_s: float
    source: list[int]
    replayed: list[int]
    source_rps: float | None  # mean over the replay's span
    replayed_rps: float | None


class ReplayModelMix(TypedDict):
    model: str  # the model requests went to
    source_models: list[str]  # the logged model ids mapped to it
    source: int  # logged calls
    replayed: int  # requests sent


class ReplayOperationMix(TypedDict):
    operation: str  # as logged ("-": a trace names none)
    api: str  # the API it went through
    source: int
    replayed: int


class ReplaySkip(TypedDict):
    reason: str
    where: str  # file:line, or s3://bucket/key:line
    detail: str


class ReplaySpreading(TypedDict):
    rule: str
    seed: int
    seconds_spread: int  # logged seconds whose calls were spread


class ReplayTimestamps(TypedDict):
    marks: Literal["start", "end"]  # replay.timestamp_is
    corrected_by_latency: int  # instants moved back by latencyMs (marks: end)
    not_corrected: int  # ... that had no latencyMs to move back by
    first_utc: str | None  # the first and last call of the window, as logged
    last_utc: str | None


class ReplayPrompts(TypedDict):
    logged: int  # the logged request's text
    synthetic: int  # made to the logged size (loadgen/plan/synthetic.py)
    token_method: dict[str, int]  # how the synthetic ones' tokens were counted


class ReplayOptionsSent(TypedDict):
    """Requests sent (not dropped) by the logged options they carried (loadgen/replay/
    options.py): each count is of requests with that option on the wire."""

    latency_optimized: int  # performanceConfig latency: optimized
    service_tier: int  # a serviceTier
    cached: int  # one or more cache points
    tools: int  # toolConfig / tools
    reasoning: int  # thinking budget or reasoning effort
    history: int  # earlier turns of the conversation (multi-turn)
    additional_fields: int  # additionalModelRequestFields passed through


class ReplaySection(TypedDict):
    sources: list[str]
    layouts: dict[str, int]  # records read, by layout
    files: int  # files and S3 objects read
    records: int  # records that parsed
    skipped_records: dict[str, int]  # by reason
    skipped_files: dict[str, int]  # by reason
    skipped_examples: list[ReplaySkip]  # the first few of each reason
    selected: int  # calls in the window and among the scenario's models
    planned: int  # requests planned
    sent: int  # requests sent (not dropped)
    speed: float
    rate_scale: float
    thinned: int  # calls left out by rate_scale below 1
    added: int  # copies added by rate_scale above 1
    window: str | None
    limit: int | None
    model_map: dict[str, str]
    api: Literal["logged", "scenario"]
    timestamps: ReplayTimestamps
    spreading: ReplaySpreading
    prompts: ReplayPrompts
    latency_optimized: int  # calls logged with performanceConfig latency: optimized
    cache_read: int  # calls logged with cache reads
    cache_write: int  # calls logged with cache writes
    options_sent: NotRequired[ReplayOptionsSent]  # requests sent by the options they carried
    # Logged options not sent, by option: another provider's model, or a chat API
    options_left_out: NotRequired[dict[str, int]]
    arrivals: ReplayArrivals
    input_tokens: ReplayTokens
    output_tokens: ReplayTokens
    models: list[ReplayModelMix]
    operations: list[ReplayOperationMix]
    notes: list[str]
