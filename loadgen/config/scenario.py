"""The scenario file: what to send, to which models, at what load.

A scenario is YAML validated by pydantic models that forbid unknown keys. Every problem is
reported at once, each with its YAML path, what was expected and what was found (k6 style),
and command-line overrides are checked by the same rules, named by their flag.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

import yaml
from pydantic import (
    BeforeValidator,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from loadgen.config.apis import ApiName, apis_of_run
from loadgen.config.base import Seconds
from loadgen.config.base import StrictModel as _Strict
from loadgen.config.conversation_spec import ConversationSpec
from loadgen.config.load_models import LoadSpec, replace_load_model
from loadgen.config.outcome_spec import OutcomeSpec
from loadgen.config.price_override import PriceOverride
from loadgen.config.quality_spec import QualitySpec
from loadgen.config.quota_spec import ModelQuota
from loadgen.config.request_options import (
    RequestOptionFields,
    effective_options,
    option_problems,
    resolve_tool_files,
)
from loadgen.config.synthetic_spec import SyntheticSpec
from loadgen.config.thresholds import Check, parse_check
from loadgen.core.errors import ConfigError
from loadgen.core.redact import redact_url, url_credentials


class InferenceSpec(RequestOptionFields):
    """Inference parameters and the request options every model inherits (docs/scenario.md
    "Request options")."""

    max_tokens: int = Field(512, ge=1, le=200_000)
    temperature: float | None = Field(None, ge=0, le=1)
    top_p: float | None = Field(None, gt=0, le=1)


class ModelSpec(RequestOptionFields):
    """One model under test. `id` is what the user writes: a model id or inference profile.
    An option key set here replaces the one inherited from `inference:` (null: off)."""

    id: str = Field(min_length=1)
    weight: float = Field(1.0, gt=0)
    max_tokens: int | None = Field(None, ge=1, le=200_000)
    temperature: float | None = Field(None, ge=0, le=1)


def _model_from_string(value: Any) -> Any:
    return {"id": value} if isinstance(value, str) else value


class PromptSpec(_Strict):
    system: str | None = None
    template: str = Field(min_length=1)


class DatasetSpec(_Strict):
    """Rows that fill the prompt template: a JSONL file (beside the scenario, else in the
    current folder), inline, or `synthetic` (prompts of a token shape, each row's `text`)."""

    path: str | None = None
    rows: list[dict[str, Any]] | None = None
    synthetic: SyntheticSpec | None = None
    shuffle: bool = True

    @model_validator(mode="after")
    def _one_source(self) -> DatasetSpec:
        if sum(source is not None for source in (self.path, self.rows, self.synthetic)) != 1:
            raise ValueError("give exactly one of dataset.path, dataset.rows or dataset.synthetic")
        return self


# The template of a synthetic dataset: its text alone, so that the prompt is the token count.
SYNTHETIC_TEMPLATE = "{text}"


def _synthetic_prompt(data: Any) -> Any:
    """A synthetic dataset makes the whole prompt: the prompt section may be left out."""
    if isinstance(data, dict) and "prompt" not in data:
        dataset = data.get("dataset")
        if isinstance(dataset, dict) and dataset.get("synthetic") is not None:
            return {**data, "prompt": {"template": SYNTHETIC_TEMPLATE}}
    return data


# A replay (load.replay) takes models and prompts from its log: `*` is every model in it, and
# the prompt and dataset sections are not needed (docs/replay.md).
EVERY_REPLAYED_MODEL = "*"
_REPLAY_DEFAULTS: dict[str, Any] = {
    "models": [EVERY_REPLAYED_MODEL],
    "prompt": {"template": "{text}"},
    "dataset": {"rows": [{"id": "replay", "text": "(each prompt comes from the log)"}]},
}


def _replay_defaults(data: Any) -> Any:
    """With load.replay, models default to every model of the log, prompt and dataset to a
    stand-in that no request uses."""
    load = data.get("load") if isinstance(data, dict) else None
    if isinstance(load, dict) and load.get("replay") is not None:
        return {**_REPLAY_DEFAULTS, **data}
    return data


def dataset_path(scenario: Scenario) -> Path:
    """dataset.path beside the scenario, else in the current folder (a scenario run from the
    folder its dataset is in); ConfigError naming both places when it is in neither."""
    assert scenario.dataset.path is not None
    beside = scenario.base_dir / scenario.dataset.path
    here = Path.cwd() / scenario.dataset.path
    for candidate in (beside, here):
        if candidate.exists():
            return candidate
    places = [str(beside.resolve())]
    if here.resolve() != beside.resolve():
        places.append(str(here.resolve()))
    raise ConfigError(
        [
            f"dataset.path: {scenario.dataset.path!r} not found; tried "
            + " and ".join(places)
            + " (a relative path is read beside the scenario first, then in the current folder)"
        ]
    )


class TimeoutSpec(_Strict):
    connect: Seconds = Field(10.0, gt=0)
    first_token: Seconds = Field(60.0, gt=0)
    total: Seconds = Field(300.0, gt=0)


class CircuitBreakerSpec(_Strict):
    """Stop a run whose requests mostly fail: it would only burn quota and money."""

    error_rate: float | None = Field(0.8, gt=0, le=1, description="null turns the breaker off")
    # The window must hold min_requests completions at the tested rate, or the breaker never
    # decides: 20 in 60 s covers rates down to 1 request every 3 s.
    window: Seconds = Field(60.0, gt=0)
    min_requests: int = Field(20, ge=1)
    count_throttles: bool = False


class CloudWatchSpec(_Strict):
    """Publish the run's metrics to CloudWatch as it goes (docs/cloudwatch.md)."""

    enabled: bool = False
    namespace: str = Field("LLM/LoadTest", min_length=1, max_length=255)
    interval: Seconds = Field(60.0, ge=1, le=3600)
    storage_resolution: Literal[1, 60] = 60
    dimensions: dict[str, str] = Field(default_factory=dict)
    region: str | None = None  # default: the target's region
    endpoint_url: str | None = None  # e.g. a local moto server
    profile: str | None = None  # default: the target's profile
    dashboard: bool = False  # put the scenario's dashboard before load
    alarms: bool = False  # put the thresholds as alarms before load
    alarm_topic: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:sns:")  # SNS topic ARN


# A month of spend, in hours, unless the scenario sets cost.hours_per_month: 730, as AWS's
# pricing calculator takes it (365 days x 24 h / 12), not 30 days (720 h).
HOURS_PER_MONTH = 730
PRICE_MAX_AGE_DAYS = 180  # a catalogue price older than this is flagged (cost.max_price_age)


class CostSpec(_Strict):
    max_usd: float | None = Field(None, gt=0, description="budget: stop sending before passing it")
    project_rps: float | None = Field(None, gt=0, description="also project the bill at this rate")
    allow_unpriced: bool = False
    hours_per_month: float = Field(
        HOURS_PER_MONTH, gt=0, le=744, description="hours in the month projections use"
    )
    max_price_age_days: int = Field(
        PRICE_MAX_AGE_DAYS, ge=0, description="warn when a price used is older than this"
    )


# Which API carries the requests (docs/scenario.md, "APIs"); loadgen/backends/apis.py.


# TargetSpec's URL fields: each is refused with credentials in it (user:password@, a key or
# signature in the query string), and never echoed with them.
TARGET_URL_FIELDS = ("endpoint_url",)


class TargetSpec(_Strict):
    provider: Literal["bedrock"] = "bedrock"
    region: str | None = None
    endpoint_url: str | None = None
    profile: str | None = None
    # Size of the HTTP connection pool. Default: load.max_in_flight, so no request waits for
    # a connection. Smaller pools queue requests before they are sent (measured as pool wait).
    max_connections: int | None = Field(None, ge=1, le=100_000)
    api: ApiName = "bedrock-converse-stream"
    # The environment variable holding the OpenAI-compatible API key (never the key itself).
    api_key_env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    # How Bedrock's streamed frames are decoded: loadgen's lean decoder, or botocore's own
    # (docs/scaling.md has the CPU each costs). Who builds the request: request_path, below.
    stream_decoder: Literal["lean", "sdk"] = "lean"
    # How Bedrock's streaming requests are built: by loadgen, signed by botocore (`signed`), or
    # by botocore's whole request pipeline (`sdk`). See docs/scaling.md, "lean request path".
    request_path: Literal["signed", "sdk"] = "signed"

    @model_validator(mode="before")
    @classmethod
    def _sdk_decoder_keeps_sdk_requests(cls, data: Any) -> Any:
        # A scenario written before request_path existed that asks for botocore's decoder
        # keeps botocore's whole path, as it did.
        if isinstance(data, dict) and data.get("stream_decoder") == "sdk":
            return {"request_path": "sdk", **data}
        return data

    @model_validator(mode="after")
    def _signed_reads_with_lean(self) -> TargetSpec:
        if self.request_path == "signed" and self.stream_decoder == "sdk":
            raise ValueError(
                "request_path: signed reads answers with the lean decoder, but "
                "stream_decoder is sdk; set request_path: sdk to use botocore for both, or "
                "drop stream_decoder (lean is the default)"
            )
        return self

    @model_validator(mode="before")
    @classmethod
    def _hide_url_credentials(cls, data: Any) -> Any:
        # A URL with credentials in it is refused (_url, below), and a refusal echoes the value
        # it was given (`found ...`): so it is given the URL with the credentials redacted.
        if isinstance(data, dict):
            for key in TARGET_URL_FIELDS:
                value = data.get(key)
                if isinstance(value, str) and url_credentials(value):
                    data = {**data, key: redact_url(value)}
        return data

    @field_validator(*TARGET_URL_FIELDS)
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        found = url_credentials(value)
        if found:
            raise ValueError(
                f"credentials in the URL are not allowed (it has {' and '.join(found)}); "
                "remove them. Bedrock takes credentials from the AWS chain (target.profile, "
                "AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_BEARER_TOKEN_BEDROCK); "
                "an OpenAI-compatible server from the environment variable that "
                "target.api_key_env names"
            )
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(
                f"expected an http(s) URL such as http://127.0.0.1:8080, got {value!r}"
            )
        try:
            parsed.port  # noqa: B018 - raises on a malformed port
        except ValueError as exc:
            raise ValueError(f"bad port in {value!r}") from exc
        return value.rstrip("/")


class CheckSpec(_Strict):
    """A threshold or requirement: `check` in the loadgen/config/thresholds.py language, for one
    model or (without `model`) for each model."""

    check: str
    model: str | None = None

    @field_validator("check")
    @classmethod
    def _readable(cls, text: str) -> str:
        parse_check(text)  # raises ValueError naming what is wrong
        return text

    def parsed(self) -> Check:
        return parse_check(self.check, self.model)


class QuotaSpec(_Strict):
    """The account's quota for each model under test (Bedrock sets them per model)."""

    rpm: int | None = Field(None, ge=1, description="requests per minute")
    tpm: int | None = Field(None, ge=1, description="tokens per minute")


class SweepSpec(_Strict):
    """How `loadgen sweep` climbs its ladder of rates (docs/sweep.md); flags override."""

    rates: list[Annotated[float, Field(gt=0, le=100_000)]] | None = Field(None, min_length=1)
    stage_duration: Seconds = Field(30.0, gt=0, le=86400)
    stage_warmup: Seconds = Field(5.0, ge=0, le=86400)
    start_rate: float = Field(1.0, gt=0, le=100_000)
    max_rate: float = Field(1000.0, gt=0, le=100_000)
    factor: float = Field(2.0, gt=1, le=10, description="geometric step while probing")
    precision: float = Field(0.05, gt=0, le=1, description="stop refining at this gap")
    max_stages: int = Field(12, ge=1, le=100, description="per model")
    max_error_rate: float = Field(0.05, ge=0, le=1)
    max_throttle_rate: float = Field(0.05, ge=0, le=1)
    min_throughput_share: float = Field(0.9, gt=0, le=1)
    ttft_growth: float = Field(1.5, gt=1, description="TTFT end/start ratio that is a queue")
    max_lag_p99: Seconds = Field(0.05, gt=0, description="schedule lag p99 of a stage")
    quota: QuotaSpec = QuotaSpec()


def _check_from_string(value: Any) -> Any:
    return {"check": value} if isinstance(value, str) else value


Checks = list[Annotated[CheckSpec, BeforeValidator(_check_from_string)]]


class Scenario(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    description: str = ""
    models: list[Annotated[ModelSpec, BeforeValidator(_model_from_string)]] = Field(min_length=1)
    prompt: PromptSpec
    dataset: DatasetSpec
    inference: InferenceSpec = InferenceSpec()
    load: LoadSpec
    timeouts: TimeoutSpec = TimeoutSpec()
    circuit_breaker: CircuitBreakerSpec = CircuitBreakerSpec()
    cost: CostSpec = CostSpec()
    cloudwatch: CloudWatchSpec = CloudWatchSpec()
    pricing: dict[str, PriceOverride] = Field(
        default_factory=dict, description="USD per 1M tokens, by model id; over the catalogue"
    )
    target: TargetSpec = TargetSpec()
    emulator: dict[str, Any] | None = Field(
        None, description="emulator profiles, used only with --emulate"
    )
    thresholds: Checks = Field(
        default_factory=list, description="a failed one makes the run exit 99"
    )
    requirements: Checks = Field(
        default_factory=list, description="the verdict per model; never changes the exit code"
    )
    fail_on_limited: bool = Field(
        False,
        description="exit 8 when the run is not trustworthy: the generator was limited or "
        "dropped requests (--fail-on-limited)",
    )
    quota: dict[str, ModelQuota] = Field(
        default_factory=dict,
        description="per model id: the account's quotas (tpm, tpd, rpm) that the run's quota "
        "use is measured against (docs/quotas.md)",
    )
    sweep: SweepSpec = SweepSpec()
    quality: QualitySpec = Field(
        default_factory=QualitySpec, description="quality scoring of responses (docs/quality.md)"
    )
    outcomes: OutcomeSpec = Field(
        default_factory=OutcomeSpec,
        description="whether guardrail, filtered and truncated answers count in latency figures",
    )
    seed: int | None = Field(None, ge=0, lt=2**63)
    # Run the same prompts through the streaming and the non-streaming API of target.api's
    # family, one after the other, and compare them in the report.
    compare_streaming: bool = False
    # Sessions of several turns, each sending the conversation so far (docs/scenario.md
    # "Conversations").
    conversation: ConversationSpec | None = None
    base_dir: Path = Field(Path("."), exclude=True)

    _synthetic_prompt = model_validator(mode="before")(_synthetic_prompt)
    _replay_defaults = model_validator(mode="before")(_replay_defaults)

    @model_validator(mode="before")
    @classmethod
    def _tool_files(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return resolve_tool_files(data, Path(data.get("base_dir", ".")))
        return data

    def model_options(self, model_id: str) -> dict[str, Any]:
        """The request options of one model: its own keys over those of `inference:`."""
        spec = next(m for m in self.models if m.id == model_id)
        return effective_options(self.inference, spec)

    @model_validator(mode="after")
    def _options_fit(self) -> Scenario:
        apis = apis_of_run(self.target.api, self.compare_streaming)
        problems = []
        for spec in self.models:
            if spec.id == EVERY_REPLAYED_MODEL:
                continue
            max_tokens = spec.max_tokens or self.inference.max_tokens
            problems += option_problems(spec.id, self.model_options(spec.id), apis, max_tokens)
        if self.conversation is not None and self.load.replay is not None:
            problems.append(
                "conversation: a replay sends the logged calls as they were; leave "
                "conversation out with load.replay"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @field_validator("models")
    @classmethod
    def _unique_models(cls, models: list[ModelSpec]) -> list[ModelSpec]:
        ids = [m.id for m in models]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"each model once; repeated: {', '.join(duplicates)}")
        return models

    @model_validator(mode="after")
    def _checks_name_models(self) -> Scenario:
        ids = {m.id for m in self.models}
        if EVERY_REPLAYED_MODEL in ids:
            if self.load.replay is None:
                raise ValueError(
                    f"models: {EVERY_REPLAYED_MODEL!r} (every model of the log) is for "
                    "load.replay only; name the model ids"
                )
            return self  # the log's models are known once it is read
        for section in ("thresholds", "requirements"):
            for spec in getattr(self, section):
                if spec.model is not None and spec.model not in ids:
                    raise ValueError(
                        f"{section}: {spec.check!r} names model {spec.model!r}, which is not "
                        f"in models ({', '.join(sorted(ids))})"
                    )
        return self


# Command-line flags and the scenario paths they override, so errors name the flag.
FLAG_PATHS: dict[str, tuple[str, ...]] = {
    "--rps": ("load", "rate"),
    "--arrival": ("load", "arrival"),
    "--duration": ("load", "duration"),
    "--requests": ("load", "requests"),
    "--warmup": ("load", "warmup"),
    "--max-in-flight": ("load", "max_in_flight"),
    "--endpoint-url": ("target", "endpoint_url"),
    "--region": ("target", "region"),
    "--profile": ("target", "profile"),
    "--model": ("models",),
    "--seed": ("seed",),
    "--concurrency": ("load", "concurrency"),
    "--cv": ("load", "cv"),
    "--rates": ("sweep", "rates"),
    "--stage-duration": ("sweep", "stage_duration"),
    "--stage-warmup": ("sweep", "stage_warmup"),
    "--start-rate": ("sweep", "start_rate"),
    "--max-rate": ("sweep", "max_rate"),
    "--max-stages": ("sweep", "max_stages"),
    "--quota-rpm": ("sweep", "quota", "rpm"),
    "--quota-tpm": ("sweep", "quota", "tpm"),
    "--max-cost": ("cost", "max_usd"),
    "--project-rps": ("cost", "project_rps"),
    "--api": ("target", "api"),
    "--api-key-env": ("target", "api_key_env"),
    "--cloudwatch-endpoint-url": ("cloudwatch", "endpoint_url"),
    "--cloudwatch-region": ("cloudwatch", "region"),
    "--cloudwatch-profile": ("cloudwatch", "profile"),
    "--cloudwatch-interval": ("cloudwatch", "interval"),
    "--sns-topic": ("cloudwatch", "alarm_topic"),
}


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Read, override and validate a scenario. Raises ConfigError listing every problem."""
    path = Path(path)
    data = read_scenario_data(path)
    return scenario_from_dict(data, base_dir=path.parent, overrides=overrides, source=str(path))


def read_scenario_data(path: Path) -> dict[str, Any]:
    """The scenario file's mapping, as read (ConfigError when it cannot be)."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"no such file; check the path ({path.resolve()})"], source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"cannot read it: {exc}"], source) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError([f"not valid YAML: {exc}"], source) from None
    if not isinstance(data, dict):
        found = type(data).__name__
        raise ConfigError(
            [f"expected a mapping of scenario keys at the top, found {found}"], source
        )
    return data


def with_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """The scenario mapping with command-line overrides laid over it, as load_scenario lays
    them (for --save-scenario: the scenario a run was given, written out)."""
    return _apply_overrides(data, overrides)


def scenario_from_dict(
    data: dict[str, Any],
    *,
    base_dir: Path = Path("."),
    overrides: dict[str, Any] | None = None,
    source: str = "scenario",
) -> Scenario:
    merged = _apply_overrides(data, overrides or {})
    merged["base_dir"] = base_dir
    try:
        return Scenario.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, overrides or {}), source) from None


def _apply_overrides(data: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    if "duration" in overrides.get("load", {}) or "requests" in overrides.get("load", {}):
        # A duration or a count given on the command line replaces the scenario's stop rule.
        load = merged.setdefault("load", {})
        if isinstance(load, dict):
            load.pop("duration", None)
            load.pop("requests", None)
    replace_load_model(merged, overrides)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def _describe(exc: ValidationError, overrides: dict[str, Any]) -> list[str]:
    flags = {path: flag for flag, path in FLAG_PATHS.items() if _has_path(overrides, path)}
    problems = []
    for error in exc.errors():
        loc = tuple(str(part) for part in error["loc"])
        flag = next((f for p, f in flags.items() if loc[: len(p)] == p), None)
        where = flag or (".".join(loc) if loc else "(top level)")
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key; check its spelling against docs/scenario.md"
        elif error["type"] == "missing":
            message = "required key is missing"
        found = "" if error["type"] in ("missing", "extra_forbidden") else _found(error)
        if not loc and message.startswith(_SELF_PLACED):
            # A whole-scenario check names each problem's own key, one a line.
            problems += message.splitlines()
            continue
        problems.append(f"{where}: {message}{found}")
    return problems


# The keys whose whole-scenario checks (Scenario._options_fit) say where each problem is.
_SELF_PLACED = ("models: ", "conversation: ")


def _found(error: Any) -> str:
    value = error.get("input")
    if isinstance(value, dict | list) or value is None:
        return ""
    return f" (found {value!r})"


def _has_path(data: dict[str, Any], path: tuple[str, ...]) -> bool:
    node: Any = data
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True
