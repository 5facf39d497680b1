"""Which logged calls a replay sends, and at which instants of the log.

In order: each instant spread within its logged second (spreading.py) and, when the log's
timestamp marks a call's end (`timestamp_is: end`), moved back by the server's latencyMs; the
calls put in time order; the window (its offsets count from the first call of the log); the
model map and the scenario's models; more or fewer arrivals (rate_scale.py); the limit. Each
call left out is counted under its reason (records.py)."""

from __future__ import annotations

from dataclasses import dataclass

from loadgen.config.replay_spec import ReplaySpec, parse_window
from loadgen.core.errors import ConfigError
from loadgen.replay.instants import iso_utc
from loadgen.replay.rate_scale import scale_arrivals
from loadgen.replay.records import ReplayRecord, Skips
from loadgen.replay.spreading import spread_instants, spread_seconds

EVERY_MODEL = "*"


@dataclass(frozen=True, slots=True)
class Chosen:
    """A logged call the replay keeps: its instant in the log and the model it goes to."""

    instant_us: int  # µs since the epoch, spread and corrected
    record: ReplayRecord
    model: str  # after the map


@dataclass
class Selection:
    source: list[Chosen]  # the log's calls the replay covers, in time order
    arrivals: list[tuple[int, Chosen]]  # what is sent: (instant µs, call), in time order
    origin_us: int  # the first call of the window: offset 0 of the replay
    spread_seconds: int  # logged seconds whose calls were spread
    corrected: int  # instants moved back by latencyMs (timestamp_is: end)
    not_corrected: int  # ... that could not be: no latencyMs in the record
    thinned: int
    added: int


def select(
    records: list[ReplayRecord],
    spec: ReplaySpec,
    seed: int,
    models: set[str] | None,
    skips: Skips,
) -> Selection:
    """`models`: the scenario's (None: every model of the log)."""
    _check_models_named(records, spec.map)
    instants = spread_instants(records, seed)
    # The window goes by the instants as logged (corrected, not spread): `14:00:02..` takes
    # every call logged in 14:00:02, and `2s..` every call logged 2 s after the first.
    logged = [record.unix_us for record in records]
    corrected = not_corrected = 0
    if spec.timestamp_is == "end":
        for index, record in enumerate(records):
            if record.latency_ms is None:
                not_corrected += 1
            else:
                instants[index] -= record.latency_ms * 1000
                logged[index] -= record.latency_ms * 1000
                corrected += 1
    order = sorted(range(len(records)), key=instants.__getitem__)
    first_us = min(logged, default=0)
    start_us = end_us = None
    if spec.window is not None:
        window = parse_window(spec.window)
        start_us = None if window.start is None else window.start.resolve(first_us)
        end_us = None if window.end is None else window.end.resolve(first_us)
        if start_us is not None and end_us is not None and start_us >= end_us:
            raise ConfigError(
                [
                    f"replay.window {spec.window!r}: from {iso_utc(start_us)} to "
                    f"{iso_utc(end_us)} is empty"
                ]
            )
    chosen: list[Chosen] = []
    for index in order:
        record, instant = records[index], instants[index]
        if (start_us is not None and logged[index] < start_us) or (
            end_us is not None and logged[index] >= end_us
        ):
            skips.record("outside_window", record.where, iso_utc(logged[index]))
            continue
        model = mapped_model(record.model, spec.map)
        if models is not None and model not in models:
            skips.record("model_not_selected", record.where, model)
            continue
        chosen.append(Chosen(instant, record, model))
    scaled = scale_arrivals([(c.instant_us, c) for c in chosen], spec.rate_scale, seed)
    arrivals = scaled.arrivals
    source = chosen
    if spec.limit is not None and len(arrivals) > spec.limit:
        for _, late in arrivals[spec.limit :]:
            skips.record("beyond_limit", late.record.where)
        arrivals = arrivals[: spec.limit]
        last_us = arrivals[-1][0]
        source = [c for c in chosen if c.instant_us <= last_us]
    return Selection(
        source=source,
        arrivals=arrivals,
        origin_us=chosen[0].instant_us if chosen else 0,
        spread_seconds=spread_seconds(records),
        corrected=corrected,
        not_corrected=not_corrected,
        thinned=scaled.thinned,
        added=scaled.added,
    )


def mapped_model(model: str | None, mapping: dict[str, str]) -> str:
    """The model a call goes to: its own id's entry in the map, else `*`'s, else its own."""
    if model is not None and model in mapping:
        return mapping[model]
    if EVERY_MODEL in mapping:
        return mapping[EVERY_MODEL]
    assert model is not None  # _check_models_named
    return model


def _check_models_named(records: list[ReplayRecord], mapping: dict[str, str]) -> None:
    if EVERY_MODEL in mapping:
        return
    unnamed = next((record for record in records if record.model is None), None)
    if unnamed is not None:
        raise ConfigError(
            [
                f"replay: {unnamed.where}: the trace names no model; say which model to send "
                "its calls to (--model ID, or map: {'*': ID} in the scenario)"
            ]
        )
