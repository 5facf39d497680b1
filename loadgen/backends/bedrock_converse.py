"""Amazon Bedrock Converse without streaming (`api: bedrock-converse`).

The answer arrives whole: there is no first token to time, so TTFT stays empty; TTLT is when
the body has been read and parsed (by botocore's parser on both request paths). Bedrock's own
`metrics.latencyMs` is in the response.
"""

from __future__ import annotations

from loadgen.backends.bedrock import read_converse_metadata
from loadgen.backends.bedrock_client import BedrockClient, converse_arguments, fail_request
from loadgen.backends.invoke_bodies import reasoning_chars_of, texts_of
from loadgen.backends.signed_request import JSON_CONTENT, converse_body
from loadgen.backends.tracing import bound
from loadgen.core.sample import ErrorClass
from loadgen.engine.backend import Timeline
from loadgen.engine.request import Request


class BedrockConverseBackend(BedrockClient):
    async def execute(self, request: Request, timeline: Timeline) -> None:
        timeline.expect_whole_response()
        try:
            with bound(timeline):
                if self._signed is not None:  # loadgen builds the request, botocore signs it
                    headers, body = await self._signed.send_whole(
                        "Converse",
                        request.model,
                        converse_body(converse_arguments(request)),
                        {"Content-Type": JSON_CONTENT},
                    )
                    response = self._signed.parse("Converse", headers, body)
                else:
                    response = await self._client.converse(**converse_arguments(request))
            timeline.mark_end()
            timeline.server_request_id = response.get("ResponseMetadata", {}).get("RequestId")
            read_converse_metadata(response, timeline)
            message = (response.get("output") or {}).get("message") or {}
            timeline.keep_text(texts_of(message.get("content")))
            # No count of reasoning tokens in Converse's usage: estimated from the text.
            timeline.reasoning_chars += reasoning_chars_of(message.get("content"))
            timeline.stop_reason = response.get("stopReason")
            if "output" not in response or "usage" not in response:
                timeline.fail(
                    ErrorClass.PROTOCOL, "IncompleteResponse", "response without output or usage"
                )
        except Exception as exc:  # every failure is classified; none may stop the run
            fail_request(timeline, exc)
