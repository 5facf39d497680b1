"""Request options in the scenario (docs/scenario.md "Request options"): prompt caching,
reasoning, tools, service tier, latency-optimised inference, a guardrail and pass-through
fields. Each is set under `inference:` and may be replaced per model in `models:` (a model's
key replaces the inherited one; `null` turns an inherited option off).

Shapes follow the newest botocore bedrock-runtime model (CachePointBlock, ToolSpecification,
ToolChoice, ServiceTier, PerformanceConfiguration, GuardrailConfiguration); which API and
model family can carry each option is checked by `option_problems`, at load time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator

from loadgen.config.apis import INVOKE_APIS, is_openai
from loadgen.config.base import StrictModel
from loadgen.config.model_family import MIN_THINKING_BUDGET, invoke_body_has, reasoning_style

# Bedrock's ToolName pattern and length (botocore: [a-zA-Z0-9_-]+, 1 to 64).
TOOL_NAME_PATTERN = r"^[a-zA-Z0-9_-]{1,64}$"
# Guardrail identifier (an id or a guardrail ARN) and version (a number or DRAFT), as botocore.
GUARDRAIL_ID_PATTERN = (
    r"^([a-z0-9]+|arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:guardrail/[a-z0-9]+)$"
)
GUARDRAIL_VERSION_PATTERN = r"^([1-9][0-9]{0,7}|DRAFT)$"

# Options that go into an InvokeModel body, where only some families have them.
INVOKE_BODY_OPTIONS: tuple[Literal["cache", "tools"], ...] = ("cache", "tools")

OPTION_KEYS = (
    "cache",
    "reasoning",
    "tools",
    "service_tier",
    "latency",
    "guardrail",
    "additional_fields",
)


class CacheSpec(StrictModel):
    """Where cache points go, and their TTL where the model offers a choice."""

    places: list[Literal["system", "tools", "prefix", "conversation"]] = Field(min_length=1)
    ttl: Literal["5m", "1h"] | None = None

    @field_validator("places")
    @classmethod
    def _each_once(cls, places: list[str]) -> list[str]:
        if len(set(places)) != len(places):
            raise ValueError("name each place once")
        return places


class ReasoningSpec(StrictModel):
    """A thinking budget in tokens (Claude) or an effort (Nova 2, gpt-oss): exactly one."""

    budget_tokens: int | None = Field(None, ge=1)
    effort: Literal["low", "medium", "high"] | None = None

    @model_validator(mode="after")
    def _one(self) -> ReasoningSpec:
        if (self.budget_tokens is None) == (self.effort is None):
            raise ValueError(
                "give exactly one of budget_tokens (Claude: extended thinking, at least "
                f"{MIN_THINKING_BUDGET}) or effort (low | medium | high: Nova 2, gpt-oss)"
            )
        return self


class ToolSpec(StrictModel):
    name: str = Field(pattern=TOOL_NAME_PATTERN)
    description: str = Field(min_length=1)
    input_schema: dict[str, Any]

    @field_validator("input_schema")
    @classmethod
    def _object_schema(cls, schema: dict[str, Any]) -> dict[str, Any]:
        if schema.get("type") != "object":
            raise ValueError(
                'the top level of a tool\'s input_schema must be a JSON schema of type "object" '
                "(Bedrock's rule), e.g. {type: object, properties: {order_id: {type: string}}}"
            )
        return schema


class ToolsSpec(StrictModel):
    specs: list[ToolSpec] = Field(min_length=1)
    choice: str | None = Field(None, description="auto | any | the name of one tool")

    @model_validator(mode="after")
    def _choice_names_a_tool(self) -> ToolsSpec:
        names = [spec.name for spec in self.specs]
        if len(set(names)) != len(names):
            raise ValueError(f"each tool name once; found {', '.join(names)}")
        if self.choice is not None and self.choice not in ("auto", "any", *names):
            raise ValueError(
                f"choice {self.choice!r} is neither auto, any nor one of the tools "
                f"({', '.join(names)})"
            )
        return self


class GuardrailSpec(StrictModel):
    identifier: str = Field(pattern=GUARDRAIL_ID_PATTERN)
    version: str = Field(pattern=GUARDRAIL_VERSION_PATTERN)
    trace: Literal["enabled", "disabled", "enabled_full"] = "disabled"

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class RequestOptionFields(StrictModel):
    """The option keys, shared by `inference:` and each `models:` entry."""

    cache: CacheSpec | None = None
    reasoning: ReasoningSpec | None = None
    tools: ToolsSpec | None = None
    service_tier: Literal["priority", "default", "flex", "reserved"] | None = None
    latency: Literal["standard", "optimized"] | None = None
    guardrail: GuardrailSpec | None = None
    additional_fields: dict[str, Any] | None = Field(
        None, description="passed through as the API's additional model request fields"
    )


def effective_options(inherited: RequestOptionFields, own: RequestOptionFields) -> dict[str, Any]:
    """A model's options: each key it sets (null included) replaces the inherited one."""
    return {
        key: getattr(own if key in own.model_fields_set else inherited, key) for key in OPTION_KEYS
    }


def resolve_tool_files(data: Any, base_dir: Path) -> Any:
    """`tools: {file: tools.yaml}` (in inference and in models) read from beside the scenario;
    the file holds the same mapping as an inline `tools:` ({specs, choice}), or a list of
    specs. Anything else is left for validation to describe."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    inference = data.get("inference")
    if isinstance(inference, dict) and _names_file(inference.get("tools")):
        data["inference"] = {**inference, "tools": _read_tools(inference["tools"], base_dir)}
    models = data.get("models")
    if isinstance(models, list):
        data["models"] = [
            {**m, "tools": _read_tools(m["tools"], base_dir)}
            if isinstance(m, dict) and _names_file(m.get("tools"))
            else m
            for m in models
        ]
    return data


def _names_file(tools: Any) -> bool:
    return isinstance(tools, dict) and "file" in tools


def _read_tools(tools: dict[str, Any], base_dir: Path) -> Any:
    extra = sorted(set(tools) - {"file", "choice"})
    if extra:
        raise ValueError(
            f"tools: with `file`, only `choice` may be given beside it (found {', '.join(extra)})"
        )
    path = base_dir / str(tools["file"])
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(
            f"tools.file: {str(tools['file'])!r} not found beside the scenario ({path.resolve()})"
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"tools.file: cannot read {path}: {exc}") from None
    if isinstance(loaded, list):
        loaded = {"specs": loaded}
    if not isinstance(loaded, dict):
        raise ValueError(
            f"tools.file: {path} must hold a mapping {{specs: [...], choice: ...}} or a list "
            "of tool specs"
        )
    if "choice" in tools:
        loaded = {**loaded, "choice": tools["choice"]}
    return loaded


def option_problems(
    model_id: str, options: dict[str, Any], apis: list[str], max_tokens: int
) -> list[str]:
    """What the APIs of the run or the model's family cannot carry of these options, each
    naming the model, the API and how to fix it."""
    problems: list[str] = []
    where = f"models: {model_id!r}"
    reasoning: ReasoningSpec | None = options["reasoning"]
    for api in apis:
        if is_openai(api):
            for key, why in (
                (
                    "cache",
                    "an OpenAI chat request has no cache points (servers cache on their own)",
                ),
                ("guardrail", "Bedrock guardrails are set on the Bedrock APIs"),
                ("latency", "performanceConfig is Bedrock's"),
            ):
                if options[key] is not None:
                    problems.append(
                        f"{where}: {key} cannot be sent through api {api}: {why}; use a "
                        f"bedrock-* API, or set {key}: null for this model"
                    )
            if options["service_tier"] == "reserved":
                problems.append(
                    f"{where}: service_tier reserved cannot be sent through api {api} (OpenAI's "
                    "service_tier takes default, flex or priority)"
                )
            if reasoning is not None and reasoning.budget_tokens is not None:
                problems.append(
                    f"{where}: reasoning.budget_tokens cannot be sent through api {api}, which "
                    "takes reasoning_effort; use reasoning: {effort: low | medium | high}"
                )
        elif api in INVOKE_APIS:
            for key in INVOKE_BODY_OPTIONS:
                if options[key] is not None and invoke_body_has(model_id, key) is False:
                    problems.append(
                        f"{where}: {key} cannot be sent through api {api}: this model family's "
                        f"InvokeModel body has no {key}; use bedrock-converse-stream, or set "
                        f"{key}: null for this model"
                    )
    if reasoning is not None:
        problems += _reasoning_problems(where, model_id, reasoning, max_tokens)
    return problems


def _reasoning_problems(
    where: str, model_id: str, reasoning: ReasoningSpec, max_tokens: int
) -> list[str]:
    style = reasoning_style(model_id)
    if style == "none":
        return [f"{where}: this model has no reasoning mode; set reasoning: null for it"]
    if style == "budget":
        if reasoning.budget_tokens is None:
            return [
                f"{where}: Claude takes a thinking budget, not an effort; use reasoning: "
                f"{{budget_tokens: N}} with N at least {MIN_THINKING_BUDGET}"
            ]
        if reasoning.budget_tokens < MIN_THINKING_BUDGET:
            return [
                f"{where}: reasoning.budget_tokens is {reasoning.budget_tokens}; Claude's "
                f"extended thinking takes at least {MIN_THINKING_BUDGET}"
            ]
        if reasoning.budget_tokens >= max_tokens:
            return [
                f"{where}: reasoning.budget_tokens ({reasoning.budget_tokens}) must be below "
                f"max_tokens ({max_tokens}); raise max_tokens or lower the budget"
            ]
    if style == "effort" and reasoning.effort is None:
        return [
            f"{where}: this model takes a reasoning effort, not a token budget; use "
            "reasoning: {effort: low | medium | high}"
        ]
    return []
