"""`load: {replay: ...}` in a scenario, and `loadgen replay`'s flags that build it: what is
accepted, what is refused and why, and the defaults a replay gives the rest of the scenario."""

from __future__ import annotations

from typing import Any

import click
import pytest

from loadgen.commands.replay import replay_options
from loadgen.config.replay_spec import parse_window
from loadgen.config.scenario import scenario_from_dict
from loadgen.core.errors import ConfigError

REPLAY: dict[str, Any] = {"name": "r", "load": {"replay": {"source": "logs/"}}, "seed": 1}


def test_a_replay_needs_no_models_prompt_or_dataset() -> None:
    scenario = scenario_from_dict(REPLAY)
    assert [m.id for m in scenario.models] == ["*"]  # every model of the log
    assert scenario.load.replay is not None
    assert scenario.load.replay.source == ["logs/"]
    assert (scenario.load.replay.speed, scenario.load.replay.timestamp_is) == (1.0, "start")


@pytest.mark.parametrize(
    ("load", "message"),
    [
        ({"duration": "1m"}, "drop load.duration"),
        ({"requests": 10, "warmup": "5s"}, "drop load.requests, load.warmup"),
        ({"rate": 5}, "found rate and replay"),
        ({"concurrency": 2}, "found concurrency and replay"),
    ],
)
def test_a_replay_takes_its_length_and_rate_from_the_log(
    load: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        scenario_from_dict({**REPLAY, "load": {**REPLAY["load"], **load}})


@pytest.mark.parametrize(
    ("replay", "message"),
    [
        ({"speed": 0}, "greater than 0"),
        ({"rate_scale": -1}, "greater than 0"),
        ({"window": "10m"}, "expected START..END"),
        ({"window": "5m..2m"}, "the end must come after the start"),
        ({"window": "tuesday..2m"}, "neither a UTC time"),
        ({"map": {"claude": "*"}}, "maps a source model id"),
        ({"source": []}, "at least 1"),
        ({"timestamp_is": "middle"}, "'start' or 'end'"),
    ],
)
def test_replay_options_are_checked(replay: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        scenario_from_dict({**REPLAY, "load": {"replay": {"source": "x", **replay}}})


def test_every_models_star_is_for_a_replay_only() -> None:
    plain = {
        "name": "p",
        "models": ["*"],
        "prompt": {"template": "{t}"},
        "dataset": {"rows": [{"t": "x"}]},
        "load": {"rate": 1, "duration": 1},
    }
    with pytest.raises(ConfigError, match=r"is for load\.replay only"):
        scenario_from_dict(plain)


def test_a_rate_on_the_command_line_replaces_the_replay() -> None:
    data = {**REPLAY, "models": ["m"], "prompt": {"template": "{t}"}}
    data["dataset"] = {"rows": [{"t": "x"}]}
    scenario = scenario_from_dict(data, overrides={"load": {"rate": 3, "duration": 1}})
    assert (scenario.load.replay, scenario.load.rate) == (None, 3)


def test_windows_read_utc_times_and_offsets() -> None:
    window = parse_window("2025-06-03T14:00:00Z..2025-06-03T15:00")
    assert window.start is not None and window.end is not None
    assert window.end.resolve(0) - window.start.resolve(0) == 3600 * 10**6
    offsets = parse_window("10m..")
    assert offsets.start is not None and offsets.end is None
    assert offsets.start.resolve(1_000) == 1_000 + 600 * 10**6


def _flags(**given: Any) -> dict[str, Any]:
    flags: dict[str, Any] = dict.fromkeys(
        (
            "model",
            "speed",
            "rate_scale",
            "window",
            "limit",
            "timestamp_is",
            "s3_region",
            "s3_profile",
            "s3_endpoint_url",
        )
    )
    return {**flags, "mapping": (), "one_api": False, **given}


def test_the_commands_flags_are_the_replay_options() -> None:
    replay = replay_options(
        ("s3://bucket/AWSLogs/", "logs"),
        _flags(
            model="nova",
            mapping=("claude=nova-pro",),
            speed=4.0,
            rate_scale=0.5,
            window="10m..40m",
            limit=100,
            one_api=True,
            s3_endpoint_url="http://127.0.0.1:5000",
        ),
    )
    assert replay["source"][0] == "s3://bucket/AWSLogs/"
    assert replay["source"][1].endswith("/logs")  # local sources from the current folder
    assert replay["map"] == {"claude": "nova-pro", "*": "nova"}
    assert (replay["speed"], replay["rate_scale"], replay["limit"]) == (4.0, 0.5, 100)
    assert (replay["window"], replay["api"]) == ("10m..40m", "scenario")
    assert replay["s3"] == {"endpoint_url": "http://127.0.0.1:5000"}
    scenario = scenario_from_dict({"name": "r", "load": {"replay": replay}})
    assert scenario.load.replay is not None and scenario.load.replay.speed == 4.0


def test_model_and_a_star_map_are_one_too_many() -> None:
    with pytest.raises(click.UsageError, match="give one of them"):
        replay_options(("x",), _flags(model="a", mapping=("*=b",)))
    with pytest.raises(click.UsageError, match="expected SRC=DST"):
        replay_options(("x",), _flags(mapping=("nova",)))
