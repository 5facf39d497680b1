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
    ModelSeries,
    PriceInfo,
    QualitySection,
    RampInfo,
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

__all__ = [
    "REPORTED_ERRORS",
    "REPORT_SCHEMA_FILE",
    "SAMPLE_SCHEMA_FILE",
    "SCHEMAS",
    "AlarmsPut",
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
    "ErrorCounts",
    "ErrorName",
    "GeneratorInfo",
    "HdrEncodings",
    "HdrName",
    "HistogramSummary",
    "LagSummary",
    "LatencySection",
    "LoadInfo",
    "ModelSection",
    "ModelSeries",
    "Pareto",
    "ParetoAxis",
    "PriceInfo",
    "QualitySection",
    "RampInfo",
    "Report",
    "ReportedError",
    "RequestCounts",
    "RunCost",
    "RunSection",
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
    "VerdictFigures",
    "VerdictModel",
    "VerdictSection",
    "WorkerInfo",
    "WorstResponse",
    "json_schema",
    "sample_json_schema",
    "schema_text",
    "validate_report",
    "validate_sample_line",
]

SchemaVersion = Literal[2]

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


class RunCost(TypedDict):
    """The run's budget, what the budget guard counted, and the prices used (null: unpriced)."""

    budget_usd: float | None
    spent_usd: float | None
    project_rps: float | None
    prices: dict[str, PriceInfo | None]


class WorkerInfo(TypedDict):
    """One worker process of `--workers N`, by its own report."""

    worker: int
    status: RunStatus
    cpu_percent: float
    wall_s: float
    lag_ms: LagSummary
    scheduled: int
    dispatched: int
    dropped: int
    achieved_rps: float | None


class RunSection(TypedDict):
    """The run as a whole: what was asked, what the generator did, what it cost."""

    scenario: str
    started_at: str
    ended_at: str
    wall_s: float
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
    input_tokens: str
    output_tokens: str


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


class ComparisonRow(TypedDict):
    """One line of the models side by side, as the console shows them."""

    model: str
    cost_per_1k_requests_usd: float | None
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
    cost_per_1k_emails_usd: float | None  # one request per email


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
        "One run's report, schema_version 1 (docs/report.md). Generated from "
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
