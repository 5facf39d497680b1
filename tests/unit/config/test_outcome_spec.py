"""The scenario's `outcomes:`: which flagged answers the latency figures leave out (none by
default), refusing a stop reason it does not flag, and left out of the scenario's digest."""

from __future__ import annotations

from typing import Any

import pytest

from loadgen.config.scenario import scenario_from_dict
from loadgen.core.errors import ConfigError
from loadgen.run.provenance import scenario_sha256

pytestmark = pytest.mark.unit

BASE: dict[str, Any] = {
    "name": "outcomes",
    "models": ["quick-model"],
    "prompt": {"template": "Summarise: {body}"},
    "dataset": {"rows": [{"id": "a", "body": "word"}]},
    "load": {"rate": 1, "duration": "1s"},
}


def test_by_default_no_answer_is_left_out() -> None:
    assert scenario_from_dict(BASE).outcomes.exclude_from_latency == ()


def test_the_flagged_stop_reasons_can_be_left_out_and_do_not_change_the_digest() -> None:
    chosen = ["guardrail_intervened", "content_filtered", "max_tokens"]
    scenario = scenario_from_dict({**BASE, "outcomes": {"exclude_from_latency": chosen}})
    assert scenario.outcomes.exclude_from_latency == tuple(chosen)
    # A reporting choice: the same requests, the same test.
    assert scenario_sha256(scenario) == scenario_sha256(scenario_from_dict(BASE))


@pytest.mark.parametrize("reason", ["end_turn", "tool_use", "guardrail"])
def test_a_stop_reason_that_is_not_flagged_is_refused(reason: str) -> None:
    with pytest.raises(ConfigError, match="exclude_from_latency"):
        scenario_from_dict({**BASE, "outcomes": {"exclude_from_latency": [reason]}})
