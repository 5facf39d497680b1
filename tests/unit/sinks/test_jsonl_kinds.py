"""samples.jsonl leaves out the reasoning, tool-use and conversation fields of a run whose
requests cannot produce them (a column null on every line is one no reader can type), and
keeps them where they can come."""

from __future__ import annotations

from typing import Any

import pytest

from loadgen.config.scenario import scenario_from_dict
from loadgen.core.sample import LineFormat
from loadgen.sinks.jsonl import REASONING_FIELDS, SESSION_FIELDS, TOOL_FIELDS, unused_kinds
from tests.factories import make_sample

pytestmark = pytest.mark.unit

BASE: dict[str, Any] = {
    "name": "kinds",
    "models": ["quick-model"],
    "prompt": {"template": "Summarise: {body}"},
    "dataset": {"rows": [{"id": "a", "body": "word", "follow_ups": ["and then?"]}]},
    "inference": {"max_tokens": 2048},
    "load": {"rate": 1, "duration": "1s"},
    "cost": {"allow_unpriced": True},
}
TOOLS = {
    "specs": [{"name": "lookup", "description": "Look it up.", "input_schema": {"type": "object"}}]
}


def test_a_plain_run_leaves_every_kind_out_and_its_lines_still_write() -> None:
    omitted = unused_kinds(scenario_from_dict(BASE))
    assert set(omitted) == {*REASONING_FIELDS, *TOOL_FIELDS, *SESSION_FIELDS}
    line = make_sample(1).to_json_dict(LineFormat("r", 0, omitted))
    assert not set(omitted) & set(line)


@pytest.mark.parametrize(
    ("changes", "kept"),
    [
        pytest.param(
            {
                "models": [
                    {
                        "id": "anthropic.claude-sonnet-4-5-20250929-v1:0",
                        "reasoning": {"budget_tokens": 1024},
                    }
                ]
            },
            REASONING_FIELDS,
            id="reasoning asked for",
        ),
        pytest.param({"models": ["openai.gpt-oss-120b-1:0"]}, REASONING_FIELDS, id="gpt-oss"),
        pytest.param({"inference": {"max_tokens": 2048, "tools": TOOLS}}, TOOL_FIELDS, id="tools"),
        pytest.param(
            {"conversation": {"turns": 2, "follow_ups": "follow_ups"}},
            SESSION_FIELDS,
            id="conversation",
        ),
    ],
)
def test_what_a_run_can_produce_is_kept(changes: dict[str, Any], kept: tuple[str, ...]) -> None:
    omitted = unused_kinds(scenario_from_dict({**BASE, **changes}))
    assert not set(kept) & set(omitted)
    assert omitted  # the kinds it cannot produce are still left out
