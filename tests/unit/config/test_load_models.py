"""Load models in the scenario: closed loop, ramp, stages, gamma; what is refused, and what the
command line replaces. Through to the report: tests/e2e/test_load_models.py."""

from __future__ import annotations

from typing import Any

import pytest

from loadgen.config.scenario import scenario_from_dict
from loadgen.core.errors import ConfigError

BASE: dict[str, Any] = {
    "name": "loads",
    "models": ["quick-model"],
    "prompt": {"template": "Summarise: {body}"},
    "dataset": {"rows": [{"id": "a", "body": "word " * 20}]},
    "inference": {"max_tokens": 50},
    "load": {"rate": 5, "arrival": "constant", "duration": "1s"},
    "cost": {"allow_unpriced": True},
    "emulator": {
        # service time: 50 ms to the first token, then 5 more tokens 10 ms apart = 100 ms
        "profiles": {"quick-model": {"ttft_ms": 50, "itl_ms": 10, "output_tokens": 6}}
    },
    "seed": 3,
}


@pytest.mark.parametrize(
    ("load", "message"),
    [
        ({"rate": 2, "concurrency": 3, "duration": "1s"}, "found rate and concurrency"),
        ({"ramp": {"from": 1, "to": 5}, "requests": 10}, "load.ramp runs over load.duration"),
        ({"stages": [{"rate": 1, "duration": "2s"}], "duration": "3s"}, "set their own length"),
        ({"arrival": "gamma", "duration": "1s"}, "arrival gamma needs load.cv"),
        ({"cv": 2, "duration": "1s"}, "applies to arrival: gamma only"),
        ({"concurrency": 20, "max_in_flight": 10, "duration": "1s"}, "above load.max_in_flight"),
        ({"ramp": {"from": 0, "to": 0}, "duration": "1s"}, "sends nothing"),
        ({"rate": 2, "think_time": "1s", "duration": "1s"}, "think_time is a closed-loop"),
    ],
)
def test_mixed_or_incomplete_load_models_are_refused(load: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        scenario_from_dict({**BASE, "load": load})


def test_a_load_model_on_the_command_line_replaces_the_scenarios() -> None:
    staged = {**BASE, "load": {"stages": [{"rate": 1, "duration": "2s"}]}}
    closed = scenario_from_dict(staged, overrides={"load": {"concurrency": 4, "duration": 1}})
    assert (closed.load.concurrency, closed.load.stages, closed.load.loop) == (4, None, "closed")
    gamma = {**BASE, "load": {"rate": 5, "arrival": "gamma", "cv": 2, "duration": "1s"}}
    poisson = scenario_from_dict(gamma, overrides={"load": {"arrival": "poisson"}})
    assert (poisson.load.arrival, poisson.load.cv) == ("poisson", None)


def test_a_rate_on_the_command_line_drops_the_closed_loops_think_time() -> None:
    closed = {**BASE, "load": {"concurrency": 2, "think_time": "500ms", "duration": "1s"}}
    assert scenario_from_dict(closed).load.think_time == 0.5
    opened = scenario_from_dict(closed, overrides={"load": {"rate": 3}})
    assert (opened.load.loop, opened.load.think_time) == ("open", 0.0)
