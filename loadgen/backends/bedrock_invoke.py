"""Amazon Bedrock InvokeModel (`api: bedrock-invoke`) and InvokeModelWithResponseStream
(`api: bedrock-invoke-stream`), with each model's native body (invoke_bodies.py).

Bedrock's own timings: the stream's last chunk carries `amazon-bedrock-invocationMetrics`
{invocationLatency, firstByteLatency}; InvokeModel answers with the
`X-Amzn-Bedrock-Invocation-Latency` header (and the token counts as headers too).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from loadgen.backends.bedrock_client import REQUEST_ID_HEADER, BedrockClient, fail_request
from loadgen.backends.classify import fail_incomplete
from loadgen.backends.invoke_bodies import (
    ModelFamily,
    StreamState,
    invoke_headers,
    invoke_parameters,
    model_family,
    read_chunk,
    read_response,
    request_body,
)
from loadgen.backends.lean_eventstream import lean_events
from loadgen.backends.tracing import bound
from loadgen.core.sample import ErrorClass
from loadgen.engine.backend import Timeline
from loadgen.engine.request import Request

LATENCY_HEADER = "x-amzn-bedrock-invocation-latency"
INPUT_TOKENS_HEADER = "x-amzn-bedrock-input-token-count"
OUTPUT_TOKENS_HEADER = "x-amzn-bedrock-output-token-count"


def _family(request: Request) -> ModelFamily:
    family = model_family(request.model)
    # check_invoke_models (loadgen/backends/apis.py) refuses them before load: a backstop.
    if family is None:
        raise ValueError(f"no native body known for {request.model}")
    return family


def _arguments(family: ModelFamily, request: Request) -> dict[str, Any]:
    """The SDK's parameters: the native body, and the options InvokeModel takes as headers."""
    return {
        "modelId": request.model,
        "body": json.dumps(request_body(family, request)).encode(),
        "contentType": "application/json",
        "accept": "application/json",
        **invoke_parameters(request),
    }


def _option_headers(request: Request) -> dict[str, str]:
    return invoke_headers(invoke_parameters(request))


class BedrockInvokeStreamBackend(BedrockClient):
    async def execute(self, request: Request, timeline: Timeline) -> None:
        stream = None
        try:
            family = _family(request)
            state = StreamState(family)
            with bound(timeline):
                arguments = _arguments(family, request)
                if self._signed is not None:  # loadgen builds the request, botocore signs it
                    stream = await self._signed.send(
                        "InvokeModelWithResponseStream",
                        request.model,
                        arguments["body"],
                        {
                            "Content-Type": arguments["contentType"],
                            "X-Amzn-Bedrock-Accept": arguments["accept"],
                            **_option_headers(request),
                        },
                    )
                    timeline.server_request_id = stream.headers.get(REQUEST_ID_HEADER)
                    events = lean_events(stream, "InvokeModelWithResponseStream")
                else:
                    response = await self._client.invoke_model_with_response_stream(**arguments)
                    timeline.server_request_id = response["ResponseMetadata"].get("RequestId")
                    stream = response["body"]
                    events = (
                        lean_events(stream._raw_stream, "InvokeModelWithResponseStream")
                        if self._target.stream_decoder == "lean"
                        else stream
                    )
                async for event in events:
                    chunk = event.get("chunk")
                    if chunk is not None:
                        read_chunk(state, json.loads(chunk["bytes"]), timeline)
            timeline.mark_end()
            fail_incomplete(timeline, state.missing())
        except Exception as exc:  # every failure is classified; none may stop the run
            fail_request(timeline, exc)
        finally:
            if stream is not None:
                stream.close()


class BedrockInvokeBackend(BedrockClient):
    async def execute(self, request: Request, timeline: Timeline) -> None:
        timeline.expect_whole_response()
        try:
            family = _family(request)
            arguments = _arguments(family, request)
            with bound(timeline):
                if self._signed is not None:  # loadgen builds the request, botocore signs it
                    headers, raw = await self._signed.send_whole(
                        "InvokeModel",
                        request.model,
                        arguments["body"],
                        {
                            "Content-Type": arguments["contentType"],
                            "Accept": arguments["accept"],
                            **_option_headers(request),
                        },
                    )
                else:
                    response = await self._client.invoke_model(**arguments)
                    async with response["body"] as body:
                        raw = await body.read()
                    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
            timeline.mark_end()
            timeline.server_request_id = headers.get(REQUEST_ID_HEADER)
            complete = read_response(family, json.loads(raw), timeline)
            _read_headers(headers, timeline)
            if not complete:
                timeline.fail(
                    ErrorClass.PROTOCOL, "IncompleteResponse", "body without content or usage"
                )
        except Exception as exc:  # every failure is classified; none may stop the run
            fail_request(timeline, exc)


def _read_headers(headers: Mapping[str, str], timeline: Timeline) -> None:
    """Bedrock's latency header; its token counts only where the body gave none."""
    if (latency := headers.get(LATENCY_HEADER)) is not None:
        timeline.server_latency_ms = int(latency)
    if timeline.input_tokens is None and (count := headers.get(INPUT_TOKENS_HEADER)):
        timeline.input_tokens = int(count)
    if timeline.output_tokens is None and (count := headers.get(OUTPUT_TOKENS_HEADER)):
        timeline.output_tokens = int(count)
