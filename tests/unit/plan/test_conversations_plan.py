"""The planner's side of issue 16: options built once per model and put on every request,
sessions reserving an id per turn, message-history rows, and the shared prefix's length."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from loadgen.config.scenario import Scenario, load_scenario, scenario_from_dict
from loadgen.core.errors import ConfigError
from loadgen.plan.arrival_split import WorkerShare
from loadgen.plan.phases import plan, worker_plan
from loadgen.plan.prompts import PromptSource, load_rows, template_head_chars
from tests.helpers import REPO

SONNET = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU = "global.anthropic.claude-haiku-4-5-20251001-v1:0"


def scenario(**changes: Any) -> Scenario:
    base: dict[str, Any] = {
        "name": "plan",
        "models": [SONNET, {"id": HAIKU, "cache": None}],
        "prompt": {"template": "Ticket: {text}"},
        "dataset": {"rows": [{"id": "a", "text": "one"}, {"id": "b", "text": "two"}]},
        "load": {"rate": 10, "arrival": "constant", "duration": "2s"},
        "inference": {"max_tokens": 4096, "cache": {"places": ["system", "prefix"]}},
    }
    return scenario_from_dict({**base, **changes})


def planned(loaded: Scenario, count: int = 10, first_id: int = 0) -> list[Any]:
    prompts = PromptSource(loaded, load_rows(loaded), seed=1)
    return list(
        itertools.islice(plan(loaded, [m.id for m in loaded.models], prompts, 1, first_id), count)
    )


def test_options_are_built_once_per_model_and_carried_by_every_request() -> None:
    requests = [p.request for p in planned(scenario())]
    sonnet = [r.options for r in requests if r.model == SONNET]
    haiku = [r.options for r in requests if r.model == HAIKU]
    assert len({id(o) for o in sonnet}) == 1 and len({id(o) for o in haiku}) == 1
    assert sonnet[0].cache is not None and sonnet[0].cache.places == ("system", "prefix")
    assert haiku[0].cache is None  # turned off for this model
    assert {r.model for r in requests} == {SONNET, HAIKU}
    assert all(r.session is None and r.session_id is None for r in requests)


def test_a_template_head_is_the_shared_prefix() -> None:
    requests = [p.request for p in planned(scenario())]
    assert {r.prompt.prefix_chars for r in requests} == {len("Ticket: ")}
    assert template_head_chars("{text} tail") == 0
    assert template_head_chars("no fields at all") == 0
    assert template_head_chars("a {{literal}} {x}") == len("a {literal} ")


def test_a_synthetic_prompt_has_its_shared_prefix_marked() -> None:
    loaded = scenario(
        prompt={"template": "{text}"},
        dataset={"synthetic": {"input": 300, "output": 20, "shared_prefix": 200}},
    )
    requests = [p.request for p in planned(loaded, 4)]
    prefix = requests[0].prompt.prefix_chars
    assert prefix > 0 and {r.prompt.prefix_chars for r in requests} == {prefix}
    heads = {r.prompt.user[:prefix] for r in requests}
    assert len(heads) == 1  # the same text in every prompt
    assert len({r.prompt.user[prefix:] for r in requests}) == len(requests)


def test_sessions_reserve_an_id_per_turn() -> None:
    loaded = scenario(conversation={"turns": 3, "think_time": "1s", "follow_ups": ["more", "bye"]})
    requests = [p.request for p in planned(loaded, 4, first_id=100)]
    assert [r.request_id for r in requests] == [100, 103, 106, 109]
    assert [r.session_id for r in requests] == [100, 103, 106, 109]
    assert {r.turn for r in requests} == {1}
    script = requests[0].session
    assert script is not None
    assert (script.turns, script.follow_ups, script.think_ns) == (3, ("more", "bye"), 10**9)


def test_workers_share_sessions_not_ids() -> None:
    loaded = scenario(conversation={"turns": 3, "follow_ups": ["more"]})
    prompts = PromptSource(loaded, load_rows(loaded), seed=1)
    models = [m.id for m in loaded.models]
    whole = [p.request.request_id for p in plan(loaded, models, prompts, 1, 0)]
    shares = [
        [
            p.request.request_id
            for p in worker_plan(
                plan(loaded, models, prompts, 1, 0), loaded, WorkerShare(w, 3), 1, 0
            )
        ]
        for w in range(3)
    ]
    assert sorted(itertools.chain(*shares)) == whole
    assert all(len(share) >= len(whole) // 3 for share in shares)  # each worker gets its share


def test_follow_ups_from_a_row_field() -> None:
    loaded = scenario(
        dataset={"rows": [{"id": "a", "text": "one", "next": ["why?", "thanks"]}]},
        conversation={"turns": 2, "follow_ups": "next"},
    )
    (first,) = [p.request for p in planned(loaded, 1)]
    assert first.session is not None and first.session.follow_ups == ("why?", "thanks")


def test_a_row_without_its_follow_ups_is_refused() -> None:
    loaded = scenario(conversation={"turns": 2, "follow_ups": "next"})
    with pytest.raises(ConfigError) as caught:
        PromptSource(loaded, load_rows(loaded), seed=1)
    assert caught.value.problems[0].startswith("dataset a: conversation.follow_ups names")


def test_a_message_row_sends_its_last_user_message_after_its_history() -> None:
    rows = [
        {
            "id": "m1",
            "messages": [
                {"role": "user", "content": "Where is order A1?"},
                {
                    "role": "assistant",
                    "content": [
                        {"toolUse": {"toolUseId": "t1", "name": "lookup", "input": {"id": "A1"}}}
                    ],
                },
                {
                    "role": "user",
                    "content": [
                        {"toolResult": {"toolUseId": "t1", "content": [{"text": "shipped"}]}},
                        {"text": "So when will it come?"},
                    ],
                },
            ],
        }
    ]
    loaded = scenario(dataset={"rows": rows})
    prompt = PromptSource(loaded, load_rows(loaded), seed=1).prompt(0)
    assert prompt.user == "So when will it come?"
    assert prompt.history[0] == {"role": "user", "content": [{"text": "Where is order A1?"}]}
    assert prompt.history[1]["content"][0]["toolUse"]["toolUseId"] == "t1"
    assert prompt.user_blocks == (rows[0]["messages"][2]["content"][0],)
    assert prompt.prefix_chars == 0  # the template is not used for a message row


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([], "non-empty list"),
        ([{"role": "assistant", "content": "hi"}], "expected 'user'"),
        ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "last message"),
        ([{"role": "user", "content": [{"toolResult": {}}]}], "end with a text block"),
        ([{"role": "user", "content": [{"text": "a", "image": {}}]}], "a block is a mapping"),
        ([{"role": "user", "content": "  "}], "non-empty string"),
    ],
)
def test_a_bad_message_row_is_refused_with_where(messages: list[Any], expected: str) -> None:
    loaded = scenario(dataset={"rows": [{"id": "bad", "messages": messages}]})
    with pytest.raises(ConfigError) as caught:
        PromptSource(loaded, load_rows(loaded), seed=1)
    assert (
        caught.value.problems[0].startswith("dataset bad") and expected in caught.value.problems[0]
    )


def test_the_support_agent_scenario_loads_and_plans_sessions() -> None:
    loaded = load_scenario(REPO / "scenarios" / "support_agent.yaml")
    requests = [p.request for p in planned(loaded, 6)]
    assert loaded.conversation is not None and loaded.conversation.turns == 3
    assert all(r.session is not None and len(r.session.follow_ups) == 2 for r in requests)
    claude = next(r for r in requests if "claude" in r.model)
    assert claude.options.reasoning is not None and claude.options.reasoning.budget_tokens == 2048
    assert claude.options.tools is not None and len(claude.options.tools.specs) == 2
