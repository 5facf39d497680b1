"""`load: {replay: ...}`: a run whose arrivals, models and token counts come from a log of real
traffic (Bedrock model invocation logs, a CloudWatch Logs export, or a public trace) instead of
a rate. What each option does, and why, is in docs/replay.md; loadgen/replay/ reads and plans."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator

from loadgen.config.base import StrictModel as _Strict
from loadgen.core.durations import parse_duration


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


class S3Access(_Strict):
    """Where `s3://` sources are read from, with the user's own credential chain."""

    region: str | None = None  # default: the chain's (AWS_REGION, the profile's region)
    profile: str | None = None
    endpoint_url: str | None = Field(None, pattern=r"^https?://")  # e.g. a local moto server


class ReplaySpec(_Strict):
    source: Annotated[list[Annotated[str, Field(min_length=1)]], BeforeValidator(_as_list)] = Field(
        min_length=1, description="files, folders or s3://bucket/prefix URLs"
    )
    speed: float = Field(1.0, gt=0, le=10_000, description="time compression: 4 replays 4x as fast")
    rate_scale: float = Field(
        1.0, gt=0, le=100, description="below 1 thins the arrivals, above 1 duplicates them"
    )
    window: str | None = Field(
        None, description="START..END: UTC times, or offsets from the first record (10m..40m)"
    )
    limit: int | None = Field(None, ge=1, description="send at most this many requests")
    map: dict[str, str] = Field(
        default_factory=dict, description="source model id (or *) -> the model id to send to"
    )
    api: Literal["logged", "scenario"] = Field(
        "logged",
        description="logged: each record through the API of its logged operation (in "
        "target.api's family); scenario: every record through target.api",
    )
    timestamp_is: Literal["start", "end"] = Field(
        "start", description="what a log record's timestamp marks; end: moved back by latencyMs"
    )
    s3: S3Access = S3Access()

    @field_validator("window")
    @classmethod
    def _window_readable(cls, value: str | None) -> str | None:
        if value is not None:
            parse_window(value)  # raises ValueError naming what is wrong
        return value

    @field_validator("map")
    @classmethod
    def _map_names_models(cls, value: dict[str, str]) -> dict[str, str]:
        for source, target in value.items():
            if not source.strip() or not target.strip() or target == "*":
                raise ValueError(
                    f"map {source!r}: {target!r}: each entry maps a source model id (or *) to "
                    "the model id to send to"
                )
        return value


@dataclass(frozen=True, slots=True)
class WindowBound:
    """One side of a window: a UTC instant (unix µs), or an offset (µs) from the first record."""

    unix_us: int | None = None
    offset_us: int | None = None

    def resolve(self, first_unix_us: int) -> int:
        if self.unix_us is not None:
            return self.unix_us
        assert self.offset_us is not None
        return first_unix_us + self.offset_us


@dataclass(frozen=True, slots=True)
class Window:
    """`START..END`, either side open; a record is in it when START <= instant < END."""

    start: WindowBound | None
    end: WindowBound | None


def parse_window(text: str) -> Window:
    """`2025-06-03T14:00:00Z..2025-06-03T15:00:00Z`, `10m..40m` (from the first record),
    `..30m` or `2025-06-03T14:00..`. A time without a zone is UTC."""
    if ".." not in text:
        raise ValueError(
            f"window {text!r}: expected START..END, e.g. 2025-06-03T14:00Z..2025-06-03T15:00Z "
            "or 10m..40m (offsets from the first record); either side may be left empty"
        )
    start_text, end_text = (part.strip() for part in text.split("..", 1))
    start = _bound(start_text, text)
    end = _bound(end_text, text)
    if start is None and end is None:
        raise ValueError(f"window {text!r}: give a start, an end or both")
    # Two sides of one kind can be ordered now; an absolute and an offset only once the first
    # record is known (loadgen/replay/selection.py).
    if (
        start is not None
        and end is not None
        and (start.unix_us is None) == (end.unix_us is None)
        and start.resolve(0) >= end.resolve(0)
    ):
        raise ValueError(f"window {text!r}: the end must come after the start")
    return Window(start, end)


def _bound(text: str, whole: str) -> WindowBound | None:
    if not text:
        return None
    try:
        return WindowBound(offset_us=round(parse_duration(text) * 1e6))
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"window {whole!r}: {text!r} is neither a UTC time (2025-06-03T14:00:00Z) nor an "
            "offset from the first record (10m)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return WindowBound(unix_us=round(moment.timestamp() * 1e6))
