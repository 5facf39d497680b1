"""The report's contract as types: report.json (`Report`) and a samples.jsonl line (`SampleLine`).

Every section is a TypedDict, so mypy checks the keys where the report is built
(loadgen/report/build.py, merge.py, verdict.py, ...) and where it is read (console, html,
compare, sweep). The parts built below or beside this package are in
loadgen/core/report_parts.py (and SampleLine in loadgen/core/sample.py); they are re-exported
here, so this module names every type of the report.

The JSON Schemas shipped in docs/ are generated from these types, never written by hand:

    python -m loadgen.report.schema docs/

writes docs/report.schema.json and docs/sample.schema.json (tests/unit/report/
test_report_schema.py fails when they differ from what this module generates, and checks a
real run's files against them). Every object in them forbids unknown keys, as does
`validate_report`: a key that is not in the types is a key the contract does not have.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, Literal, NotRequired, get_args, get_type_hints

from pydantic import ConfigDict, TypeAdapter
from pydantic.json_schema import GenerateJsonSchema
from pydantic_core import CoreSchema
from typing_extensions import TypedDict, is_typeddict

from loadgen.config.apis import ApiName
from loadgen.core.report_parts import (
    AlarmsPut,
    CheckOp,
    CheckResult,
    CheckUnit,
    CloudWatchSection,
    CostPerRequest,
    CostProjection,
    CostProjections,
    CostSummary,
    DashboardPut,
    HistogramSummary,
    LatencyName,
    LoadInfo,
    LongContextRateInfo,
    ModelSeries,
    PriceInfo,
    QualitySection,
    QuotaColumns,
    QuotaLimitUse,
    QuotaMinute,
    QuotaModelSection,
    QuotaSection,
    RampInfo,
    RateInfo,
    RunSpendSummary,
    RunStatus,
    ScoreStats,
    SeriesDetail,
    SeriesPercentiles,
    StageInfo,
    StopPhase,
    StopStatus,
    ThresholdsSection,
    TimeSeriesSection,
    TokenName,
    TokenPriceInfo,
    WorstResponse,
)
from loadgen.core.sample import ErrorName, SampleLine
from loadgen.report.replay_types import ReplaySection

__all__ = [
    "REPORTED_ERRORS",
    "REPORT_SCHEMA_FILE",
    "SAMPLE_SCHEMA_FILE",
    "SCHEMAS",
    "AlarmsPut",
    "CacheSection",
    "CheckOp",
    "CheckResult",
    "CheckUnit",
    "CloudWatchSection",
    "ComparisonRow",
    "CostPerRequest",
    "CostProjection",
    "CostProjections",
    "CostSection",
    "CostSummary",
    "DashboardPut",
    "EmulatorProfileUsed",
    "EmulatorProvenance",
    "ErrorCounts",
    "ErrorName",
    "GeneratorInfo",
    "HdrEncodings",
    "HdrName",
    "HistogramSummary",
    "LagSummary",
    "LatencySection",
    "LoadInfo",
    "LongContextRateInfo",
    "ModelSection",
    "ModelSeries",
    "OutcomeCount",
    "OutcomesSection",
    "Pareto",
    "ParetoAxis",
    "PriceInfo",
    "Provenance",
    "QualitySection",
    "QuotaColumns",
    "QuotaLimitUse",
    "QuotaMinute",
    "QuotaModelSection",
    "QuotaSection",
    "RampInfo",
    "RateInfo",
    "ReasoningSection",
    "ReplaySection",
    "Report",
    "ReportedError",
    "RequestCounts",
    "RunCost",
    "RunCostSettings",
    "RunSection",
    "RunSpendSummary",
    "RunStatus",
    "SampleLine",
    "SchemaVersion",
    "ScoreStats",
    "SeriesDetail",
    "SeriesPercentiles",
    "ServiceAndResponse",
    "StageInfo",
    "StopPhase",
    "StopStatus",
    "StreamingComparison",
    "StreamingFigures",
    "StreamingRow",
    "TargetInfo",
    "ThresholdsSection",
    "Throughput",
    "TimeSeriesSection",
    "TokenCounts",
    "TokenPriceInfo",
    "TokenSummary",
    "ToolUseSection",
    "TrustAssessment",
    "TrustKind",
    "TrustReason",
    "TrustSeverity",
    "TurnFigures",
    "VerdictFigures",
    "VerdictModel",
    "VerdictSection",
    "WorkerInfo",
    "WorkerNode",
    "WorstResponse",
    "json_schema",
    "sample_json_schema",
    "schema_text",
    "validate_report",
    "validate_sample_line",
]

SchemaVersion = Literal[3]

# --- run -------------------------------------------------------------------------------------


class TargetInfo(TypedDict):
    """Where the requests went (the endpoint's credentials in its URL redacted)."""

    provider: Literal["bedrock", "openai"]
    api: ApiName
    region: str | None
    # Where the region came from: scenario (or --region), AWS_REGION, AWS_DEFAULT_REGION,
    # "profile NAME", or emulator; null on the OpenAI path. Absent before schema_version 2.
    region_source: NotRequired[str | None]
    endpoint_url: str | None
    emulated: bool


class LagSummary(TypedDict):
    """Schedule lag, ms: how late the generator sent against its schedule."""

    p50: float | None
    p99: float | None
    max: float | None


class GeneratorInfo(TypedDict):
    """What the load generator did, and whether it kept up (`limited`)."""

    target_rps: float | None  # null in closed loop: the rate is an outcome there
    scheduled_rps: float | None  # what the schedule offered (Poisson varies around the target)
    achieved_rps: float | None  # what was actually dispatched
    scheduled: int
    dispatched: int
    dropped: int
    cancelled: int
    lag_ms: LagSummary
    cpu_percent: float  # of one core, this process (merged: the busiest part's)
    limited: bool
    limited_reasons: list[str]


class RunCostSettings(TypedDict):
    """The run's budget, what the budget guard counted, the projections' settings, and the
    prices used (null: unpriced)."""

    budget_usd: float | None
    spent_usd: float | None
    project_rps: float | None
    hours_per_month: float
    prices: dict[str, PriceInfo | None]


class RunCost(RunCostSettings):
    spend: RunSpendSummary  # what the whole run cost: warmup and cancelled requests included


class WorkerNode(TypedDict):
    """The Ray node a share's actor ran on (`--ray`)."""

    id: str  # Ray's node id (hex)
    ip: str  # the node's IP address, as Ray knows it


class WorkerInfo(TypedDict):
    """One worker process of `--workers N` (or Ray actor of `--ray`), by its own report."""

    worker: int
    status: RunStatus
    cpu_percent: float
    wall_s: float
    lag_ms: LagSummary
    scheduled: int
    dispatched: int
    dropped: int
    achieved_rps: float | None
    # --ray only: where the actor ran. Absent for worker processes (all on the driver's
    # machine), for an actor that died before saying, and before schema_version 3.
    node: NotRequired[WorkerNode]


class EmulatorProfileUsed(TypedDict):
    """The emulator profile that answered one model."""

    profile: str  # its name among the profiles; "default" when none matched the model id
    # sha256 of its settings as they ran (the scenario's `emulator:` laid over the built-in
    # profiles, with quota and capacity; its description aside)
    sha256: str


class EmulatorProvenance(TypedDict):
    """Which emulator answered: loadgen.emulator.EMULATOR_VERSION and each model's profile."""

    version: int
    profiles: dict[str, EmulatorProfileUsed]  # by model id


class Provenance(TypedDict):
    """What produced the run, beside run.target and run.load, so that `loadgen compare` can
    tell whether two runs were made against the same thing (docs/compare.md, "Provenance")."""

    # sha256 of the scenario's canonical dump, of what shapes the requests: models, prompt,
    # dataset, inference, timeouts, circuit breaker, pricing (not its name, seed, load, target,
    # emulator, thresholds, requirements, quality, cost, CloudWatch or sweep settings)
    scenario_sha256: str
    dataset_sha256: str | None  # of the dataset file; null for inline or generated rows
    emulator: EmulatorProvenance | None  # null unless the built-in emulator answered


class RunSection(TypedDict):
    """The run as a whole: what was asked, what the generator did, what it cost."""

    scenario: str
    # The run's id, also on each of its samples.jsonl lines (a --workers run's workers share
    # it; a merge of other runs gets its own). Absent before schema_version 3.
    run_id: NotRequired[str]
    started_at: str
    ended_at: str
    wall_s: float
    # True when the endpoint was loadgen's own emulator: every figure is synthetic. Absent
    # before schema_version 3 (target.emulated says the same).
    emulated: NotRequired[bool]
    status: RunStatus
    status_reason: str | None
    # The phase the first stop request came in; null for a run that was not stopped. Absent
    # from reports written before loadgen recorded it.
    stopped_in: NotRequired[StopPhase | None]
    target: TargetInfo
    load: LoadInfo
    seed: int
    loadgen_version: str
    warmup_requests: int
    generator: GeneratorInfo
    cost: RunCost
    cloudwatch: CloudWatchSection | None  # with CloudWatch publishing
    emulator: dict[str, object] | None  # with --emulate: the emulator's own record
    notes: list[str]
    workers: NotRequired[list[WorkerInfo]]  # with --workers N > 1
    # What produced the run (scenario and dataset digests, emulator version and profiles).
    # Absent before schema_version 3, and from a merge of runs whose provenance differs.
    provenance: NotRequired[Provenance]


# --- models.<id> -----------------------------------------------------------------------------

# The error classes a model's requests are counted in (a drop is counted apart).
ReportedError = Literal["throttled", "client", "server", "timeout", "connection", "protocol"]
REPORTED_ERRORS: tuple[ReportedError, ...] = get_args(ReportedError)


class ErrorCounts(TypedDict):
    throttled: int
    client: int
    server: int
    timeout: int
    connection: int
    protocol: int


class RequestCounts(TypedDict):
    sent: int
    ok: int
    errors: ErrorCounts
    dropped: int  # never sent: the in-flight cap was hit
    # Sent, then stopped by the run before the answer ended (not in sent or error_rate);
    # absent from reports written before loadgen counted them.
    cancelled: NotRequired[int]
    error_rate: float | None  # of sent; null when nothing was sent
    throttle_rate: float | None
    error_codes: dict[str, int]  # e.g. {"ThrottlingException": 3}


class ServiceAndResponse(TypedDict):
    """Service time (from send) and response time (from the intended start)."""

    service: HistogramSummary
    response: HistogramSummary


class LatencySection(TypedDict):
    """Milliseconds (docs/metrics.md)."""

    ttft: ServiceAndResponse
    ttlt: ServiceAndResponse
    itl: HistogramSummary
    tpot: HistogramSummary
    schedule_lag: HistogramSummary
    client_prep: HistogramSummary
    pool_wait: HistogramSummary
    server_latency: HistogramSummary
    server_first_byte: HistogramSummary
    client_overhead: HistogramSummary
    # Time to first answer token, from send: every answer's (TTFT when nothing came before
    # the answer). Absent before loadgen told content kinds apart.
    ttfa: NotRequired[HistogramSummary]


class TokenSummary(TypedDict):
    total: int
    mean: float | None
    p50: float | None
    p99: float | None


class TokenCounts(TypedDict):
    input: TokenSummary
    output: TokenSummary
    estimated_requests: int  # requests whose usage the server did not give


class Throughput(TypedDict):
    """Over the measured window: the first scheduled start to the last byte."""

    window_s: float | None
    requests_per_s: float | None
    ok_per_s: float | None
    output_tokens_per_s: float | None


class CostSection(CostSummary):
    """A model's cost, and its distribution for merges and comparisons."""

    hdr: str  # cost per request that cost something, integer nano-USD, HdrHistogram encoding


# The histograms a model keeps (loadgen/record/model_stats.py), by name.
HdrName = Literal[LatencyName, TokenName]


class HdrEncodings(TypedDict, total=False):
    """The model's HDR histograms (base64 HdrHistogram encodings; µs, or tokens), each only
    when it recorded something."""

    ttft_service: str
    ttft_response: str
    ttlt_service: str
    ttlt_response: str
    itl: str
    tpot: str
    schedule_lag: str
    client_prep: str
    pool_wait: str
    server_latency: str
    server_first_byte: str
    client_overhead: str
    ttfa_service: str
    reasoning: str
    first_tool: str
    ttft_cache_hit: str
    ttft_cache_miss: str
    input_tokens: str
    output_tokens: str


class OutcomeCount(TypedDict):
    count: int
    rate: float | None  # of answered requests (requests.ok); null when none answered


class OutcomesSection(TypedDict):
    """Answers that ended other than as asked (docs/metrics.md "Outcomes"): counted among the
    successes, flagged here, and in the latency figures unless the scenario's
    outcomes.exclude_from_latency leaves them out."""

    guardrail_intervened: OutcomeCount
    content_filtered: OutcomeCount
    truncated: OutcomeCount  # max_tokens and model_context_window_exceeded together
    excluded_from_latency: list[str]  # the stop reasons left out of latency and throughput
    excluded_requests: int  # answers left out of them
    excluded_output_tokens: int  # their output tokens, left out of output_tokens_per_s


class CacheSection(TypedDict):
    """Prompt caching (docs/metrics.md "Prompt cache"), over the requests with usage. Present
    when any cache token was read or written."""

    requests: int  # requests with usage
    input_tokens: int  # their uncached input tokens (usage.inputTokens)
    read_tokens: int  # usage.cacheReadInputTokens
    write_tokens: int  # usage.cacheWriteInputTokens
    hit_rate: float | None  # read / (input + read + write): the share of all input read cached
    read_requests: int  # requests that read anything from the cache
    read_request_share: float | None  # read_requests / requests
    ttft_hit_ms: HistogramSummary  # TTFT (service) of answers that read from the cache
    ttft_miss_ms: HistogramSummary  # ... and of those that read nothing from it


class ReasoningSection(TypedDict):
    """Reasoning (extended thinking), over answers with reasoning deltas or reasoning tokens
    (docs/metrics.md "Content kinds"). Present when any answer reasoned."""

    requests: int
    tokens_total: int  # as the server reported them, else estimated
    tokens_mean: float | None
    estimated_requests: int  # answers whose reasoning tokens were estimated (4 characters each)
    reasoning_ms: HistogramSummary  # first reasoning delta to the first answer or tool delta


class ToolUseSection(TypedDict):
    """Tool use: present when any answer called a tool."""

    requests: int  # answers with a tool-use delta
    answers: int  # answers that ended with stop reason tool_use
    first_tool_ms: HistogramSummary  # send to the first tool-use delta


class TurnFigures(TypedDict):
    """One turn number of the model's conversations."""

    requests: int  # answered requests of this turn
    ttft_p50_ms: float | None
    ttft_p99_ms: float | None
    input_tokens_mean: float | None  # every input token: uncached, cache read and cache write
    input_tokens_total: int
    input_requests: int  # answers with usage, which input_tokens_total sums
    hdr: str  # TTFT (service) in µs, HdrHistogram encoding: merges stay exact


class ModelSection(TypedDict):
    """Everything measured of one model."""

    requests: RequestCounts
    latency_ms: LatencySection
    tokens: TokenCounts
    throughput: Throughput
    cost: CostSection | None  # null for a model without a price
    out_of_range: int  # values the histograms could not hold
    hdr: HdrEncodings
    quality: NotRequired[QualitySection | None]  # null when not scored; a merge has none
    # How the answers ended, by stop reason (answered requests). Absent before loadgen
    # counted them, as are the sections below.
    stop_reasons: NotRequired[dict[str, int]]
    outcomes: NotRequired[OutcomesSection]
    service_tiers: NotRequired[dict[str, int]]  # requests by the tier that served them
    cache: NotRequired[CacheSection]  # when any cache token was read or written
    reasoning: NotRequired[ReasoningSection]  # when any answer reasoned
    tool_use: NotRequired[ToolUseSection]  # when any answer called a tool
    turns: NotRequired[dict[str, TurnFigures]]  # conversations: by turn number ("1", "2", ...)


class ComparisonRow(TypedDict):
    """One line of the models side by side, as the console shows them."""

    model: str
    cost_per_1k_answered_usd: float | None  # models.<id>.cost.per_1k_answered_usd
    cost_per_1k_sent_usd: float | None  # models.<id>.cost.per_1k_sent_usd
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    ttlt_p95_ms: float | None
    output_tokens_per_s: float | None
    error_rate: float | None


# --- verdict ---------------------------------------------------------------------------------

ParetoAxis = Literal["cost_per_1k", "ttlt_p95_ms", "quality_mean"]


class VerdictFigures(TypedDict):
    """The figures a team weighs when it picks a model."""

    quality_mean: float | None
    quality_p10: float | None
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    ttlt_p50_ms: float | None
    ttlt_p95_ms: float | None
    output_tokens_per_s: float | None
    error_rate: float | None
    cost_per_1k_answered_usd: float | None  # models.<id>.cost.per_1k_answered_usd


class VerdictModel(VerdictFigures):
    """One model against the scenario's requirements, with the figures a team weighs."""

    meets_all: bool
    met: int
    missed: int
    requirements: list[CheckResult]


class Pareto(TypedDict):
    axes: list[ParetoAxis]  # the axes some model has data for
    front: list[str]  # the models no other model dominates


class VerdictSection(TypedDict):
    """Which model to ship: each against the requirements, and the Pareto front."""

    requirements: list[str]
    models: dict[str, VerdictModel]
    meeting_all: list[str]
    pareto: Pareto


# --- trust -----------------------------------------------------------------------------------

# Why a run's figures may not be what they seem (loadgen/report/trust.py, docs/report.md).
TrustKind = Literal[
    "generator_limited",  # the generator fell behind its schedule (lag, rate, CPU)
    "dropped",  # requests never sent: the in-flight cap was hit
    "interrupted",  # stopped by a signal
    "aborted",  # stopped by a guard (budget, circuit breaker) or a dead worker
    "failed_output",  # an output could not be written
    "errors",  # requests that failed, throttles apart
    "throttled",  # requests the endpoint refused for rate (429)
    "emulated",  # the endpoint was loadgen's emulator: synthetic figures
]
# untrustworthy: the figures do not describe the load asked for (the verdict is void);
# warning: the figures hold, but read them with this in mind; info: worth knowing.
TrustSeverity = Literal["untrustworthy", "warning", "info"]


class TrustReason(TypedDict):
    kind: TrustKind
    severity: TrustSeverity
    count: int  # requests concerned (for generator_limited: the limits crossed)
    message: str  # one line a person reads, count included


class TrustAssessment(TypedDict):
    """Whether the run's figures can be trusted, and why not: what every summary opens with."""

    trustworthy: bool  # no reason of severity "untrustworthy"
    emulated: bool
    interrupted: bool  # stopped before it finished (status other than completed)
    reasons: list[TrustReason]  # most serious first; empty for a clean run


# --- streaming_comparison --------------------------------------------------------------------


class StreamingFigures(TypedDict):
    """One model through one API; ms. A non-streaming API has no TTFT (null)."""

    sent: int
    ok: int
    ttft_p50_ms: float | None
    ttft_p99_ms: float | None
    ttlt_p50_ms: float | None
    ttlt_p99_ms: float | None
    server_latency_p50_ms: float | None
    server_latency_p99_ms: float | None
    client_overhead_p50_ms: float | None


class StreamingRow(TypedDict):
    model: str
    streaming: StreamingFigures
    non_streaming: StreamingFigures
    ttlt_p50_difference_ms: float | None  # non-streaming - streaming


class StreamingComparison(TypedDict):
    """compare_streaming: the same prompts through a streaming API and its twin."""

    streaming_api: str
    non_streaming_api: str
    models: list[StreamingRow]
    compared_api: str  # the API whose models are not under the report's `models`
    compared_models: dict[str, ModelSection]


# --- dataset: synthetic prompts, requested against actual tokens -----------------------------

# How a model's tokens were counted to make its prompts (loadgen/plan/synthetic.py): a
# published tokenizer, a ratio calibrated from the server's usage in preflight, or 4 characters
# a token.
TokenMethod = Literal["tokenizer:tiktoken", "calibrated", "default"]


class TokenPercentiles(TypedDict):
    p50: float | None
    p95: float | None


class RequestedActualTokens(TypedDict):
    """Requested and actual token counts of one direction, and the error between them:
    |actual - requested| / requested per request (p50, p95), and its signed mean."""

    requested: TokenPercentiles
    actual: TokenPercentiles
    relative_error: TokenPercentiles
    mean_relative_error: float | None


class SyntheticModelTokens(TypedDict):
    token_method: TokenMethod
    chars_per_token: float | None  # the ratio used; null with a tokenizer
    overhead_tokens: int | None  # the tokens the server adds to every request (calibration)
    compared: int  # answered requests with usage, compared here
    input: RequestedActualTokens
    output: RequestedActualTokens


class DatasetSection(TypedDict):
    """A synthetic dataset (docs/scenario.md, "Synthetic prompts"): how tokens were counted
    and how near the counts landed, per model."""

    kind: Literal["synthetic"]
    token_method: TokenMethod  # every model's; the least exact one when models differ
    shared_prefix_tokens: int
    ignore_eos: bool
    models: dict[str, SyntheticModelTokens]


# --- the report ------------------------------------------------------------------------------


class Report(TypedDict):
    """report.json (docs/report.md). `thresholds` and `verdict` are added at the end of a run;
    a merged report (`loadgen merge`, `--workers`) has neither verdict nor streaming
    comparison."""

    schema_version: SchemaVersion
    run: RunSection
    models: dict[str, ModelSection]
    comparison: list[ComparisonRow]
    timeseries: TimeSeriesSection
    streaming_comparison: NotRequired[StreamingComparison | None]
    thresholds: NotRequired[ThresholdsSection | None]  # null when the scenario sets none
    verdict: NotRequired[VerdictSection]
    trust: NotRequired[TrustAssessment]  # absent before schema_version 3
    quota: NotRequired[QuotaSection]  # absent before schema_version 3
    dataset: NotRequired[DatasetSection]  # a synthetic dataset's; absent for rows
    replay: NotRequired[ReplaySection]  # a replay's (load.replay): source beside replayed


# --- JSON Schema -----------------------------------------------------------------------------

DIALECT = "https://json-schema.org/draft/2020-12/schema"
REPORT_SCHEMA_FILE = "report.schema.json"
SAMPLE_SCHEMA_FILE = "sample.schema.json"


def _forbid_unknown_keys(kind: object, seen: set[object]) -> None:
    """Every TypedDict reachable from `kind` rejects keys it does not declare (pydantic reads
    `__pydantic_config__`; the JSON Schema gets `additionalProperties: false`)."""
    if is_typeddict(kind):
        if kind in seen:
            return
        seen.add(kind)
        kind.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]
        for hint in get_type_hints(kind).values():
            _forbid_unknown_keys(hint, seen)
        return
    for argument in get_args(kind):
        _forbid_unknown_keys(argument, seen)


@cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    _forbid_unknown_keys(kind, set())
    return TypeAdapter(kind)


class _WithoutFieldTitles(GenerateJsonSchema):
    """pydantic titles each property after its key ("ttft_p50_ms": {"title": "Ttft P50 Ms"}):
    noise in a schema people read."""

    def field_title_should_be_set(self, schema: CoreSchema) -> bool:
        return False


def _schema(kind: Any, title: str, description: str) -> dict[str, Any]:
    generated = _adapter(kind).json_schema(schema_generator=_WithoutFieldTitles)
    return {"$schema": DIALECT, **generated, "title": title, "description": description}


def json_schema() -> dict[str, Any]:
    """The JSON Schema of report.json, from `Report`."""
    return _schema(
        Report,
        "loadgen report.json",
        "One run's report, schema_version 3 (docs/report.md). Generated from "
        "loadgen/report/schema.py: python -m loadgen.report.schema docs/",
    )


def sample_json_schema() -> dict[str, Any]:
    """The JSON Schema of one line of samples.jsonl, from `SampleLine`."""
    return _schema(
        SampleLine,
        "loadgen samples.jsonl line",
        "One request of a run, one JSON object a line (docs/report.md). Generated from "
        "loadgen/core/sample.py: python -m loadgen.report.schema docs/",
    )


def validate_report(report: object) -> Report:
    """`report` checked against the types (strictly: no unknown key, no string for a number);
    pydantic's ValidationError says where it is not."""
    checked: Report = _adapter(Report).validate_python(report, strict=True)
    return checked


def validate_sample_line(line: object) -> SampleLine:
    checked: SampleLine = _adapter(SampleLine).validate_python(line, strict=True)
    return checked


def schema_text(schema: dict[str, Any]) -> str:
    """As the files in docs/ hold it."""
    return json.dumps(schema, indent=2) + "\n"


SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    REPORT_SCHEMA_FILE: json_schema,
    SAMPLE_SCHEMA_FILE: sample_json_schema,
}


def main(argv: list[str]) -> int:
    """`python -m loadgen.report.schema [FOLDER]`: write both schemas into FOLDER (docs/ is
    where they are shipped), or print report.json's without one."""
    if not argv:
        sys.stdout.write(schema_text(json_schema()))
        return 0
    folder = Path(argv[0])
    for name, make in SCHEMAS.items():
        (folder / name).write_text(schema_text(make()), encoding="utf-8")
        print(folder / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
