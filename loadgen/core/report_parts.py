"""The parts of report.json that are built below or beside loadgen.report, as TypedDicts.

The whole report's type is loadgen/report/schema.py (`Report`), which uses these and re-exports
them. They live here because the code that builds them may not import loadgen.report (the
layers of docs/architecture.md): a histogram's summary (core), a price and a cost summary
(cost), the load described and the thresholds judged (config), a run's status (engine), the
time series (record), and the `quality` and `cloudwatch` sections (quality and cloudwatch
are beside report, not below it).

Only typing here: pydantic reads these to make the JSON Schema (docs/report.schema.json).
A TypedDict's docstring becomes its description in the schema.
"""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict  # pydantic reads typing's own only from Python 3.12

# The latency histograms a model keeps (loadgen/record/model_stats.py), by name.
LatencyName = Literal[
    "ttft_service",
    "ttft_response",
    "ttlt_service",
    "ttlt_response",
    "itl",
    "tpot",
    "schedule_lag",
    "client_prep",
    "pool_wait",
    "server_latency",  # what Bedrock reports: latencyMs, invocationLatency
    "server_first_byte",  # Bedrock's firstByteLatency (InvokeModelWithResponseStream)
    "client_overhead",  # TTLT from send minus server latency
]
TokenName = Literal["input_tokens", "output_tokens"]
RunStatus = Literal["completed", "interrupted", "aborted", "failed"]
StopStatus = Literal["interrupted", "aborted", "failed"]  # a run that stopped early
# Where a run was when its first stop request came (report.json run.stopped_in).
StopPhase = Literal["setup", "preflight", "load", "drain", "scoring", "publishing", "writing"]


class HistogramSummary(TypedDict):
    """An HDR histogram's figures (milliseconds for latencies); null where it is empty."""

    count: int
    mean: float | None
    p50: float | None
    p90: float | None
    p95: float | None
    p99: float | None
    p999: float | None
    max: float | None


# --- cost ------------------------------------------------------------------------------------


class CostPerRequest(TypedDict):
    """USD per priced request (free ones count as 0)."""

    mean: float | None
    p50: float | None
    p99: float | None


class CostProjection(TypedDict):
    """Spend at a request rate: the mean cost per request x the rate x the period, in USD."""

    rps: float
    per_hour: float
    per_day: float
    per_30_days: float


class CostProjections(TypedDict):
    at_tested_rps: CostProjection | None
    at_project_rps: CostProjection | None  # with --project-rps


class CostSummary(TypedDict):
    """A model's cost over the run (docs/pricing.md)."""

    total_usd: float
    requests: int
    priced_requests: int
    unpriced_requests: int
    out_of_range: int
    per_request: CostPerRequest
    per_1k_requests: float | None
    per_successful_request: float | None
    observed_per_hour: float | None
    projection: CostProjections


class TokenPriceInfo(TypedDict):
    """USD per 1M tokens."""

    input: float
    output: float
    cache_read: float | None
    cache_write: float | None


class PriceInfo(TypedDict):
    """The price a run used for a model, and where it came from."""

    catalogue_id: str
    region: str
    region_fallback: bool
    usd_per_1m_tokens: TokenPriceInfo
    source: str
    as_of: str | None


# --- run.load --------------------------------------------------------------------------------

# `from` is a Python keyword: the functional form.
RampInfo = TypedDict("RampInfo", {"from": float, "to": float})


class StageInfo(TypedDict):
    rate: float
    duration: float


class LoadInfo(TypedDict):
    """The scenario's `load:` section, named by its load model (docs/scenario.md)."""

    model: Literal["open_loop", "closed_loop"]
    rate_shape: Literal["constant", "ramp", "stages"] | None  # null in closed loop
    rate: float
    arrival: Literal["constant", "poisson", "gamma"]
    cv: float | None
    ramp: RampInfo | None
    stages: list[StageInfo] | None
    concurrency: int | None
    duration: float | None
    requests: int | None
    warmup: float
    max_in_flight: int
    model_order: Literal["shared", "sequential"]
    note: NotRequired[str]  # closed loop: why schedule lag and response time say nothing there


# --- thresholds and requirements --------------------------------------------------------------

CheckOp = Literal["<", "<=", ">", ">="]
CheckUnit = Literal["ms", "fraction", "USD", ""]


class CheckResult(TypedDict):
    """One check (`ttft.p95 < 800ms`) against one model."""

    check: str
    model: str
    metric: str
    stat: str | None
    op: CheckOp
    limit: float
    unit: CheckUnit
    measured: float | None
    passed: bool
    reason: str | None  # "no data for this metric" when measured is null


class ThresholdsSection(TypedDict):
    """The scenario's thresholds judged; a failed one makes the run exit 99."""

    passed: bool
    failed: int
    results: list[CheckResult]


# --- timeseries ------------------------------------------------------------------------------


class SeriesPercentiles(TypedDict):
    """Per second, in ms; null where the second had no value."""

    p50: list[float | None]
    p99: list[float | None]
    max: list[float | None]


class ModelSeries(TypedDict):
    ttft_ms: SeriesPercentiles  # by the first token's second
    ttlt_ms: SeriesPercentiles  # by the last byte's second
    errors: list[int]  # this model's errors (and drops) per second


class SeriesDetail(TypedDict):
    """The per-second detail a run records (a merged report has none)."""

    throttled: list[int]
    lag_ms: SeriesPercentiles  # schedule lag, by dispatch second
    models: dict[str, ModelSeries]


class TimeSeriesSection(TypedDict):
    """Per second since t0, the whole run (warmup included)."""

    interval_s: int
    start_s: int
    sends: list[int]
    completions: list[int]
    errors: list[int]
    output_tokens: list[int]
    throttled: NotRequired[list[int]]
    lag_ms: NotRequired[SeriesPercentiles]
    models: NotRequired[dict[str, ModelSeries]]


# --- models.<id>.quality ---------------------------------------------------------------------


class ScoreStats(TypedDict):
    mean: float | None
    p10: float | None
    p50: float | None


class WorstResponse(TypedDict):
    row_id: str
    score: float
    key_fact_coverage: float | None
    structure: float | None
    rouge_l: float | None
    words: int
    missing_facts: list[str]  # "kind: fact", at most 10
    missing_sections: list[str]


class QualitySection(TypedDict):
    """A model's responses scored against the rows' references (docs/quality.md)."""

    score: ScoreStats
    key_fact_coverage: ScoreStats
    structure: ScoreStats
    rouge_l: ScoreStats
    length_words: ScoreStats
    compression: ScoreStats
    scored: int
    worst: list[WorstResponse]


# --- run.cloudwatch --------------------------------------------------------------------------


class DashboardPut(TypedDict):
    name: str
    put: bool


class AlarmsPut(TypedDict):
    wanted: int
    put: int
    refused: list[str]


class CloudWatchSection(TypedDict):
    """What was published to CloudWatch, and what was not (docs/cloudwatch.md)."""

    published_data: int
    failed_calls: int
    dropped_data: int
    last_error: str | None
    dashboard: DashboardPut | None
    alarms: AlarmsPut | None
    errors: list[str]
    dry_run: bool
    complete: bool
