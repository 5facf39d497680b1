"""samples.jsonl: one line per request, written as each request finishes (read back with
loadgen.core.sample.read_samples). The line's fields and types: Sample.to_json_dict.

A write that fails (disk full, the folder removed or made read-only) is not raised into the
runner: the file is cut back to its last whole line, the sink stops writing, and
`on_failure` is told once, so the run can stop sending and still write its report.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from loadgen.config.apis import STREAMING, is_openai
from loadgen.config.model_family import family_name
from loadgen.config.scenario import Scenario
from loadgen.core import fast_json
from loadgen.core.sample import LineFormat, Sample

# What only some APIs measure: a run none of whose APIs does leaves these out of its lines.
STREAMED_FIELDS = (
    "first_token_us",
    "first_reasoning_us",
    "first_answer_us",
    "first_tool_us",
    "ttft_service_us",
    "ttft_response_us",
    "ttfa_service_us",
    "reasoning_us",
    "tpot_us",
    "itl_us",
)
SERVER_LATENCY_FIELDS = ("server_latency_us", "client_overhead_us")  # Bedrock's, not OpenAI's
FIRST_BYTE_FIELDS = ("server_first_byte_us",)
FIRST_BYTE_APIS = frozenset({"bedrock-invoke-stream"})  # firstByteLatency in invocation metrics
# What only some requests carry: a run whose scenario cannot produce them leaves them out.
REASONING_FIELDS = ("first_reasoning_us", "reasoning_us", "reasoning_tokens")
TOOL_FIELDS = ("first_tool_us",)
SESSION_FIELDS = ("session_id", "turn")
# Families that reason unasked: gpt-oss streams its reasoning whatever the request says.
REASONING_BY_DEFAULT = frozenset({"gpt-oss"})


def unmeasured_fields(apis: Iterable[str]) -> tuple[str, ...]:
    """The fields of a samples.jsonl line that none of `apis` can measure."""
    apis = list(apis)
    omitted: list[str] = []
    if not any(api in STREAMING for api in apis):
        omitted += STREAMED_FIELDS
    if all(is_openai(api) for api in apis):
        omitted += SERVER_LATENCY_FIELDS
    if not any(api in FIRST_BYTE_APIS for api in apis):
        omitted += FIRST_BYTE_FIELDS
    return tuple(omitted)


def unused_kinds(scenario: Scenario) -> tuple[str, ...]:
    """The fields of a samples.jsonl line that the scenario's requests cannot produce: no
    reasoning asked for (and no model that reasons unasked), no tools, no conversation. A
    replay sends what its log says, so it keeps them all."""
    if scenario.load.replay is not None:
        return ()
    options = [scenario.model_options(model.id) for model in scenario.models]
    omitted: list[str] = []
    may_reason = any(o["reasoning"] is not None for o in options) or any(
        family_name(model.id) in REASONING_BY_DEFAULT for model in scenario.models
    )
    if not may_reason:
        omitted += REASONING_FIELDS
    if all(o["tools"] is None for o in options):
        omitted += TOOL_FIELDS
    if scenario.conversation is None:
        omitted += SESSION_FIELDS
    return tuple(omitted)


class JsonlSink:
    def __init__(
        self,
        path: Path,
        on_failure: Callable[[str], None] | None = None,
        line_format: LineFormat | None = None,
    ) -> None:
        self.path = path
        # The run sets its wall-clock t0 here once it is known, before the first sample.
        self.line_format = line_format or LineFormat(run_id="", t0_unix_us=0)
        self._handle: IO[bytes] | None = None
        self._on_failure = on_failure
        self.lines = 0
        self.unwritten = 0  # samples that came after a failed write
        self.failure: str | None = None
        self._whole_bytes = 0  # the file's length up to its last whole line

    def start(self) -> None:
        # Unbuffered: one write call per line, which reaches the file at once (as a flush per
        # line did) and leaves nothing in a buffer that a failed write could still spill.
        self._handle = self.path.open("wb", buffering=0)

    def add(self, sample: Sample) -> None:
        handle = self._handle
        if handle is None:
            if self.failure is None:
                raise RuntimeError("start() the sink first")
            self.unwritten += 1
            return
        line = fast_json.dumps_line(sample.to_json_dict(self.line_format))
        try:
            # Each sample reaches the file as one whole line, so a run killed at any instant
            # leaves a file whose every line parses.
            written = handle.write(line)
            if written != len(line):  # a short write: a disk filling up
                self._write_rest(handle, memoryview(line)[written or 0 :])
        except OSError as exc:
            self._failed(handle, exc)
            return
        self._whole_bytes += len(line)
        self.lines += 1

    @staticmethod
    def _write_rest(handle: IO[bytes], rest: memoryview) -> None:
        while rest:
            written = handle.write(rest)
            if not written:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            rest = rest[written:]

    def _failed(self, handle: IO[bytes], exc: OSError) -> None:
        self.unwritten += 1
        self.failure = f"{self.path} could not be written ({exc.strerror or exc})"
        self._handle = None
        # What reached the disk may end in part of a line: cut it back to the last whole one.
        with contextlib.suppress(OSError):
            os.ftruncate(handle.fileno(), self._whole_bytes)
        with contextlib.suppress(OSError):
            handle.close()
        if self._on_failure is not None:
            self._on_failure(self.failure)

    def stop(self) -> None:
        if self._handle is not None:
            handle, self._handle = self._handle, None
            try:
                handle.close()
            except OSError as exc:  # the last flush can fail as any write can
                self._failed(handle, exc)
