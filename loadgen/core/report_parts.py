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
    "ttfa_service",  # time to first answer token, from send (docs/metrics.md "Content kinds")
    "reasoning",  # first reasoning delta to the first answer or tool-use delta
    "first_tool",  # send to the first tool-use delta
    "ttft_cache_hit",  # TTFT (service) of answers that read from the prompt cache
    "ttft_cache_miss",  # TTFT (service) of answers with usage that read nothing from it
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
    """USD per priced request sent (unbilled ones, such as throttled requests, count as 0)."""

    mean: float | None
    p50: float | None
    p99: float | None


class CostProjection(TypedDict):
    """Spend at a request rate: the mean cost per request sent x the rate x the period, in USD;
    a month is the projections' `hours_per_month`."""

    rps: float
    per_hour: float
    per_day: float
    per_month: float


class CostProjections(TypedDict):
    hours_per_month: float  # 730 unless the scenario sets cost.hours_per_month
    at_tested_rps: CostProjection | None
    at_project_rps: CostProjection | None  # with --project-rps


class CostSummary(TypedDict):
    """A model's cost over its measured requests (docs/pricing.md)."""

    total_usd: float
    requests: int
    priced_requests: int
    unpriced_requests: int
    out_of_range: int
    per_sent_request: CostPerRequest
    per_1k_sent_usd: float | None  # total / priced requests sent x 1,000
    per_1k_answered_usd: float | None  # total / successful requests x 1,000: what answers cost
    observed_per_hour: float | None
    projection: CostProjections


class RunSpendSummary(TypedDict):
    """What every request of the run cost, warmup and requests cancelled at a stop included,
    both APIs of compare_streaming included: the run's bill, in USD."""

    total_usd: float
    measured_usd: float
    warmup_usd: float
    cancelled_usd: float  # measured requests in flight when the run stopped
    cancelled_requests: int
    unpriced_requests: int  # billed for an amount no usage says, or the model has no price


class RateInfo(TypedDict):
    """USD per 1M tokens."""

    input: float
    output: float
    cache_read: float | None
    cache_write: float | None  # a 5-minute cache write
    cache_write_1h: float | None


class LongContextRateInfo(RateInfo):
    above_input_tokens: int  # every kind of input together


class TokenPriceInfo(RateInfo):
    long_context: LongContextRateInfo | None


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
    """The load model that ran (docs/scenario.md, "Load models"): `loop` says which, and only
    that loop's own keys are present. Open loop: a rate and its arrivals; closed loop: users
    and think time (the rate is an outcome there, in run.generator.achieved_rps)."""

    loop: Literal["open", "closed"]
    # open loop only
    rate_shape: NotRequired[Literal["constant", "ramp", "stages"]]
    rate: NotRequired[float]
    arrival: NotRequired[Literal["constant", "poisson", "gamma"]]
    cv: NotRequired[float | None]
    ramp: NotRequired[RampInfo | None]
    stages: NotRequired[list[StageInfo] | None]
    # closed loop only
    concurrency: NotRequired[int]  # users, each with one request at a time
    think_time: NotRequired[float]  # seconds a user waits after an answer before its next
    # both
    duration: float | None
    requests: int | None
    warmup: float  # seconds: a request whose intended start is earlier in its phase is warmup
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
    dropped: list[int]  # at the in-flight cap, by the second they were due
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
    # Requests dropped at the in-flight cap, by the second they were due (counted in `errors`
    # too); absent before schema_version 3.
    dropped: NotRequired[list[int]]
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


# --- quota (record) --------------------------------------------------------------------------


class QuotaMinute(TypedDict):
    """One minute of the run (0: its first) for one model, by AWS's quota rules."""

    minute: int
    requests: int  # the endpoint admitted (started) in this minute
    throttled: int  # refused before any output in this minute
    reserved_tokens: int  # input + cache write + max_tokens of the requests started
    settled_tokens: int  # input + cache write + output x burndown of the requests that ended
    peak_held_tokens: int  # the most reserved by requests in flight, at a second's end


class QuotaLimitUse(TypedDict):
    """One quota (tpm, tpd or rpm) against what the run took: tokens (requests for rpm)."""

    limit: int
    source: Literal["scenario", "account", "emulator"]
    peak: int  # the most reserved in any 60 s (tpd: any day; rpm: requests in any 60 s)
    headroom: int  # limit - peak; negative: the run needed more than the quota
    headroom_share: float  # headroom / limit
    ran_out_minute: int | None  # the first minute in which AWS's rule would have refused one


class QuotaColumns(TypedDict):
    """Second by second since the run's start, so that reports can be merged exactly."""

    started: list[int]
    refused: list[int]
    reserved: list[int]
    released: list[int]  # the reservations of the requests that ended in that second
    settled: list[int]


class QuotaModelSection(TypedDict):
    """One model's use of its Bedrock quotas (docs/quotas.md)."""

    pool: Literal["in_region", "cross_region", "global"]
    burndown: float  # quota tokens per output token at settlement
    burndown_from: str | None  # the catalogue entry (loadgen/cost/burndown.yaml); null: 1:1
    max_tokens: int  # what each request asked for, and reserved
    requests: int
    throttled: int
    usage_unknown: int  # admitted requests without usage (failed, or cut by a stop)
    first_refused_s: dict[str, int]  # tpm, tpd, rpm: the first second a 429 named that quota
    reserved_tokens: int
    settled_tokens: int
    peak_reserved_per_minute: int  # the most reserved at start in any 60 s
    peak_minute_start_s: int | None  # when that minute began, in seconds from the start
    peak_requests_per_minute: int
    limits: dict[str, QuotaLimitUse]  # tpm, tpd, rpm: those given (scenario, account, emulator)
    minutes: list[QuotaMinute]
    seconds: QuotaColumns


class QuotaSection(TypedDict):
    """What the run took from each model's Bedrock quotas, minute by minute (docs/quotas.md)."""

    window_s: int
    models: dict[str, QuotaModelSection]
