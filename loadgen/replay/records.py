"""What every reader yields: one logged call as a typed record, or the reason it was skipped.

Nothing read is dropped without a count: a record that cannot be replayed is counted under
its reason (and the first few are named, file and line), and a file that cannot be read whole
is counted under its own (docs/replay.md, "What is skipped")."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from loadgen.engine.request import LatencyMode, ServiceTier
from loadgen.replay.bodies import LoggedRequest

# The Bedrock runtime operations an invocation log names that loadgen can replay.
OPERATIONS = ("Converse", "ConverseStream", "InvokeModel", "InvokeModelWithResponseStream")
STREAMING_OPERATIONS = frozenset({"ConverseStream", "InvokeModelWithResponseStream"})

# Why a record was not replayed.
RecordSkip = Literal[
    "malformed_record",  # not JSON, not an object, or a CSV row that does not parse
    "missing_field",  # no timestamp, model or token counts
    "unsupported_operation",  # an operation other than the four above (e.g. ApplyGuardrail)
    "not_a_text_model",  # an embedding, image or video model: no text generation to replay
    "failed_call",  # the logged call failed (errorCode): no output count to ask for
    "outside_window",  # before or after replay.window
    "model_not_selected",  # its model (after map) is not among the scenario's models
    "beyond_limit",  # after replay.limit requests
]
# Why a file (or part of one) was not read.
FileSkip = Literal[
    "gzip_corrupt",  # the gzip stream breaks off or fails its check: what came before is kept
    "unreadable",  # the file or S3 object could not be read
    "unknown_layout",  # not a layout loadgen knows (docs/replay.md, "Sources")
    "not_utf8",  # text that is not UTF-8
]

EXAMPLES_KEPT = 20  # named skips in the report; the counts are always whole


@dataclass(frozen=True, slots=True)
class ReplayRecord:
    """One logged call, as a reader found it."""

    unix_us: int  # the logged instant, µs since the Unix epoch (UTC)
    whole_second: bool  # logged to the second only: spread within it (spreading.py)
    model: str | None  # None: a trace that names no model (the Azure trace)
    operation: str | None  # one of OPERATIONS; None: a trace that names none
    input_tokens: int  # as logged: not counting cache reads and writes
    output_tokens: int
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    latency: LatencyMode | None = None  # performanceConfig.latency, as logged
    service_tier: ServiceTier | None = None  # serviceTier.type, as logged
    latency_ms: int | None = None  # the server's outputBodyJson.metrics.latencyMs
    # The logged request (bodies.py), when text logging was on; None: a synthetic prompt.
    request: LoggedRequest | None = None
    where: str = ""  # file:line, for messages

    @property
    def latency_optimized(self) -> bool:
        return self.latency == "optimized"

    @property
    def system(self) -> str | None:
        return None if self.request is None else self.request.system

    @property
    def user(self) -> str | None:
        """This turn's logged text; None: no body."""
        return None if self.request is None else self.request.user

    @property
    def prompt_tokens(self) -> int:
        """The whole prompt's size: input plus what the cache read or wrote."""
        return self.input_tokens + self.cache_read_tokens + self.cache_write_tokens


@dataclass(frozen=True, slots=True)
class Skip:
    reason: str
    where: str
    detail: str = ""


@dataclass
class Skips:
    """Counts of skipped records and files by reason, the first few of each named."""

    records: Counter[str] = field(default_factory=Counter)
    files: Counter[str] = field(default_factory=Counter)
    examples: list[Skip] = field(default_factory=list)

    def record(self, reason: RecordSkip, where: str, detail: str = "", count: int = 1) -> None:
        self.records[reason] += count
        self._keep(Skip(reason, where, detail))

    def file(self, reason: FileSkip, where: str, detail: str = "") -> None:
        self.files[reason] += 1
        self._keep(Skip(reason, where, detail))

    def _keep(self, skip: Skip) -> None:
        # The first few of each reason, so that a common one does not hide a rare one.
        same = sum(1 for kept in self.examples if kept.reason == skip.reason)
        if same < 5 and len(self.examples) < EXAMPLES_KEPT:
            self.examples.append(skip)
