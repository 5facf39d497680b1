"""What `run` refuses before it starts anything: the same mistakes `loadgen run` refuses."""

from __future__ import annotations

from typing import Any

import pytest

from loadgen.core.errors import ConfigError
from loadgen.notebook import run
from loadgen.notebook.running import _layered

SCENARIO: dict[str, Any] = {
    "name": "notebook",
    "models": ["fixed-model"],
    "prompt": {"template": "Summarise: {body}"},
    "dataset": {"rows": [{"id": "r1", "body": "a few words"}]},
    "load": {"rate": 2, "requests": 4},
}


async def test_emulate_with_an_endpoint_is_refused() -> None:
    with pytest.raises(ConfigError, match="drop endpoint_url or emulate"):
        await run(SCENARIO, emulate=True, endpoint_url="http://127.0.0.1:1")


async def test_a_keyword_argument_is_checked_as_the_scenario_key_it_sets() -> None:
    with pytest.raises(ConfigError, match="rps"):
        await run(SCENARIO, rps=-1, emulate=True)


async def test_an_override_is_checked_as_the_scenario_key_it_sets() -> None:
    with pytest.raises(ConfigError, match=r"inference\.max_tokens"):
        await run(SCENARIO, emulate=True, overrides={"inference": {"max_tokens": -5}})


async def test_a_missing_scenario_file_says_where_it_looked() -> None:
    with pytest.raises(ConfigError, match="no such file"):
        await run("no/such/scenario.yaml", emulate=True)


def test_keyword_arguments_win_over_overrides_of_the_same_section() -> None:
    layered = _layered(
        {"load": {"rate": 5.0}, "target": {}, "seed": 3},
        {"load": {"rate": 1.0, "warmup": "2s"}, "target": {"region": "eu-west-1"}},
    )
    assert layered == {
        "load": {"rate": 5.0, "warmup": "2s"},
        "target": {"region": "eu-west-1"},
        "seed": 3,
    }
