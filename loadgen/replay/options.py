"""What a replayed request asks besides its prompt: the logged call's options, as
RequestOptions (loadgen/engine/request.py), which each backend writes in its API's shape.

- `performanceConfig.latency` and `serviceTier` as logged;
- the cache points where the logged body had them (bodies.py); a call logged with cache
  token counts but no body gets one after its synthetic prompt's shared prefix ("prefix");
- the logged tools;
- the logged reasoning settings and Converse's other additionalModelRequestFields, only when
  the call goes to a model of the logged model's provider: they are in that provider's form (a
  Claude thinking budget, a Nova effort, Claude's `top_k`), which another provider's model
  refuses, and a backend fails a request whose option its model cannot take rather than send
  another workload;
- through an OpenAI-compatible API, what the chat API has a field for: no latency, no
  reserved tier, no reasoning budget, no Bedrock fields.
What is left out is named per request (the report counts it)."""

from __future__ import annotations

import re
from dataclasses import replace

from loadgen.config.apis import is_openai
from loadgen.engine.request import NO_OPTIONS, CacheOption, RequestOptions
from loadgen.replay.records import ReplayRecord

# An inference profile's geography ahead of the model id: us.anthropic.claude-...
_PROFILE_PREFIX = re.compile(r"^(?:us|us-gov|eu|apac|jp|au|ca|global)\.")


def replay_options(
    record: ReplayRecord, model: str, api: str
) -> tuple[RequestOptions, tuple[str, ...]]:
    """The options of `record`'s call sent to `model` through `api`, and the names of the
    logged options left out."""
    logged = record.request
    cache = None
    if logged is not None and logged.cache_places:
        cache = CacheOption(places=logged.cache_places, ttl=logged.cache_ttl)
    elif logged is None and record.cache_read_tokens + record.cache_write_tokens > 0:
        cache = CacheOption(places=("prefix",))
    options = RequestOptions(
        cache=cache,
        reasoning=None if logged is None else logged.reasoning,
        tools=None if logged is None else logged.tools,
        service_tier=record.service_tier,
        latency=record.latency,
        additional_fields=None if logged is None else logged.additional_fields,
    )
    left_out: list[str] = []
    if record.model is None or provider(record.model) != provider(model):
        options = _without(options, left_out, "reasoning", "additional_fields")
    if is_openai(api):
        options = _without(options, left_out, "latency", "additional_fields")
        if options.service_tier == "reserved":
            options = _without(options, left_out, "service_tier")
        if options.reasoning is not None and options.reasoning.effort is None:
            options = _without(options, left_out, "reasoning")
    return (NO_OPTIONS if options == NO_OPTIONS else options), tuple(left_out)


def _without(options: RequestOptions, left_out: list[str], *names: str) -> RequestOptions:
    for name in names:
        if getattr(options, name) is not None and name not in left_out:
            left_out.append(name)
    return replace(options, **dict.fromkeys(names))


def provider(model: str) -> str:
    """The provider part of a model id, inference profile id or ARN: anthropic, amazon, ..."""
    base = _PROFILE_PREFIX.sub("", model.rsplit("/", 1)[-1])
    return base.split(".", 1)[0]
