"""Amazon Bedrock ConverseStream (`api: bedrock-converse-stream`, the default).

A stream that ends without messageStop and metadata raises nothing in botocore: we check.
"""

from __future__ import annotations

from typing import Any

from loadgen.backends.bedrock_client import (
    EMULATOR_CREDENTIALS,
    REQUEST_ID_HEADER,
    BedrockClient,
    classify,
    converse_arguments,
    fail_request,
)
from loadgen.backends.classify import fail_incomplete
from loadgen.backends.lean_eventstream import lean_events
from loadgen.backends.signed_request import JSON_CONTENT, converse_body
from loadgen.backends.tracing import bound
from loadgen.engine.backend import Timeline
from loadgen.engine.request import Request

__all__ = ["EMULATOR_CREDENTIALS", "BedrockBackend", "classify", "read_converse_metadata"]


class BedrockBackend(BedrockClient):
    async def execute(self, request: Request, timeline: Timeline) -> None:
        stream = None
        try:
            with bound(timeline):
                if self._signed is not None:  # loadgen builds the request, botocore signs it
                    stream = await self._signed.send(
                        "ConverseStream",
                        request.model,
                        converse_body(converse_arguments(request)),
                        {"Content-Type": JSON_CONTENT},
                    )
                    timeline.server_request_id = stream.headers.get(REQUEST_ID_HEADER)
                    events = lean_events(stream, "ConverseStream")
                else:
                    response = await self._client.converse_stream(**converse_arguments(request))
                    timeline.server_request_id = response["ResponseMetadata"].get("RequestId")
                    stream = response["stream"]
                    events = (
                        # botocore has not read the body yet: the lean decoder reads it instead.
                        lean_events(stream._raw_stream, "ConverseStream")
                        if self._target.stream_decoder == "lean"
                        else stream
                    )
                saw_stop = saw_metadata = False
                async for event in events:
                    if "contentBlockDelta" in event:
                        delta = event["contentBlockDelta"]["delta"]
                        # Answer text is nearly every event: tried first, as before.
                        text = delta.get("text")
                        if text:
                            timeline.mark_content(text)
                        elif "reasoningContent" in delta:
                            # {text} | {signature} | {redactedContent}: only text is counted
                            # towards the reasoning tokens estimate.
                            timeline.mark_reasoning(delta["reasoningContent"].get("text") or "")
                        elif "toolUse" in delta:
                            timeline.mark_tool_use(input_part=delta["toolUse"].get("input") or "")
                    elif "contentBlockStart" in event:
                        start = (event["contentBlockStart"].get("start") or {}).get("toolUse")
                        if start is not None:
                            timeline.mark_tool_use(start.get("toolUseId"), start.get("name"))
                    elif "messageStop" in event:
                        saw_stop = True
                        timeline.stop_reason = event["messageStop"].get("stopReason")
                    elif "metadata" in event:
                        saw_metadata = True
                        read_converse_metadata(event["metadata"], timeline)
            timeline.mark_end()
            fail_incomplete(
                timeline,
                [
                    name
                    for name, seen in (("messageStop", saw_stop), ("metadata", saw_metadata))
                    if not seen
                ],
            )
        except Exception as exc:  # every failure is classified; none may stop the run
            fail_request(timeline, exc)
        finally:
            if stream is not None:
                stream.close()


def read_converse_metadata(metadata: dict[str, Any], timeline: Timeline) -> None:
    """Usage, metrics.latencyMs and serviceTier: ConverseStream's metadata event, Converse's
    response."""
    usage = metadata.get("usage") or {}
    timeline.input_tokens = usage.get("inputTokens")
    timeline.output_tokens = usage.get("outputTokens")
    timeline.cache_read_tokens = usage.get("cacheReadInputTokens")
    timeline.cache_write_tokens = usage.get("cacheWriteInputTokens")
    latency = (metadata.get("metrics") or {}).get("latencyMs")
    timeline.server_latency_ms = int(latency) if latency is not None else None
    # The tier that served it (bedrock-runtime's ServiceTier, in Converse's response and
    # ConverseStream's metadata event since botocore's model of 2025-11-18). The lean decoder
    # passes it on; botocore's own parser drops it until its installed model knows the field.
    tier = metadata.get("serviceTier")
    if tier:
        timeline.service_tier = tier.get("type")
