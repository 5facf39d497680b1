"""Request options and conversations in the scenario: inheritance, and what is refused at
load time with the model, the API and the fix named."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from loadgen.config.from_flags import build_scenario
from loadgen.config.model_family import reasoning_style
from loadgen.config.scenario import Scenario, load_scenario, scenario_from_dict
from loadgen.core.errors import ConfigError

SONNET = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
GPT_OSS = "openai.gpt-oss-120b-1:0"
TOOLS = {
    "choice": "auto",
    "specs": [
        {
            "name": "lookup_order",
            "description": "Look an order up.",
            "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}}},
        }
    ],
}


def scenario(**changes: Any) -> Scenario:
    return scenario_from_dict(data(**changes))


def data(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "options",
        "models": [SONNET],
        "prompt": {"template": "{text}"},
        "dataset": {"rows": [{"text": "hello"}]},
        "load": {"rate": 1, "duration": "5s"},
        "inference": {"max_tokens": 4096},
    }
    return {**base, **changes}


def problems(**changes: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        scenario(**changes)
    return caught.value.problems


def test_a_model_inherits_replaces_or_turns_off_each_option() -> None:
    loaded = scenario(
        models=[
            SONNET,
            {"id": GPT_OSS, "reasoning": {"effort": "high"}, "cache": None},
        ],
        inference={
            "max_tokens": 4096,
            "cache": {"places": ["system", "conversation"], "ttl": "1h"},
            "reasoning": {"budget_tokens": 2048},
            "service_tier": "flex",
        },
    )
    sonnet, oss = loaded.model_options(SONNET), loaded.model_options(GPT_OSS)
    assert sonnet["cache"].places == ["system", "conversation"] and sonnet["cache"].ttl == "1h"
    assert sonnet["reasoning"].budget_tokens == 2048
    assert oss["cache"] is None  # null turns the inherited cache off
    assert oss["reasoning"].effort == "high" and oss["reasoning"].budget_tokens is None
    assert oss["service_tier"] == sonnet["service_tier"] == "flex"  # not set: inherited


@pytest.mark.parametrize(
    ("inference", "expected"),
    [
        ({"reasoning": {"budget_tokens": 512}}, "takes at least 1024"),
        ({"reasoning": {"budget_tokens": 4096}}, "must be below max_tokens (4096)"),
        ({"reasoning": {"effort": "low"}}, "Claude takes a thinking budget, not an effort"),
        ({"reasoning": {}}, "give exactly one of budget_tokens"),
        ({"tools": {**TOOLS, "choice": "refund"}}, "neither auto, any nor one of the tools"),
        ({"cache": {"places": ["system", "system"]}}, "name each place once"),
        ({"guardrail": {"identifier": "gr1", "version": "latest"}}, "string should match"),
    ],
)
def test_options_a_model_cannot_take_are_refused(inference: dict[str, Any], expected: str) -> None:
    found = " ".join(problems(inference={"max_tokens": 4096, **inference}))
    assert expected.lower() in found.lower()


def test_a_tool_schema_must_be_an_object() -> None:
    spec = {**TOOLS["specs"][0], "input_schema": {"type": "string"}}
    (problem,) = problems(inference={"tools": {"specs": [spec]}})
    assert problem.startswith("inference.tools.specs.0.input_schema") and '"object"' in problem


def test_reasoning_on_a_model_without_it_is_refused() -> None:
    (problem,) = problems(
        models=["anthropic.claude-3-haiku-20240307-v1:0"],
        inference={"max_tokens": 4096, "reasoning": {"budget_tokens": 2048}},
    )
    assert "'anthropic.claude-3-haiku-20240307-v1:0'" in problem and "no reasoning mode" in problem


def test_a_budget_on_an_effort_model_is_refused() -> None:
    (problem,) = problems(models=[{"id": GPT_OSS, "reasoning": {"budget_tokens": 2048}}])
    assert GPT_OSS in problem and "reasoning: {effort" in problem


def test_openai_chat_refuses_bedrock_only_options_naming_model_and_api() -> None:
    found = problems(
        target={"api": "openai-chat"},
        inference={
            "max_tokens": 4096,
            "cache": {"places": ["system"]},
            "guardrail": {"identifier": "gr1", "version": "1"},
            "latency": "optimized",
            "service_tier": "reserved",
        },
    )
    assert len(found) == 4
    assert all(p.startswith(f"models: {SONNET!r}") and "openai-chat" in p for p in found)
    assert any(p.startswith(f"models: {SONNET!r}: cache cannot be sent") for p in found)


def test_compare_streaming_checks_both_apis() -> None:
    found = problems(
        target={"api": "openai-chat-nostream"},
        compare_streaming=True,
        inference={"max_tokens": 4096, "cache": {"places": ["system"]}},
    )
    assert {p.split("api ")[1].split(":")[0] for p in found} == {
        "openai-chat",
        "openai-chat-nostream",
    }


def test_openai_chat_takes_tools_effort_and_pass_through() -> None:
    loaded = scenario(
        models=[GPT_OSS],
        target={"api": "openai-chat"},
        inference={
            "tools": TOOLS,
            "reasoning": {"effort": "low"},
            "service_tier": "priority",
            "additional_fields": {"top_k": 5},
        },
    )
    assert loaded.model_options(GPT_OSS)["additional_fields"] == {"top_k": 5}


def test_invoke_refuses_cache_on_a_family_whose_body_has_none() -> None:
    (problem,) = problems(
        models=[GPT_OSS],
        target={"api": "bedrock-invoke-stream"},
        inference={"cache": {"places": ["system"]}},
    )
    assert "InvokeModel body has no cache" in problem


def test_an_unknown_model_is_sent_its_options_as_written() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123"
    loaded = scenario(models=[arn], inference={"reasoning": {"effort": "high"}})
    assert loaded.model_options(arn)["reasoning"].effort == "high"


def test_tools_from_a_file_beside_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "tools.yaml").write_text(
        "- name: lookup_order\n  description: Look it up.\n  input_schema: {type: object}\n"
    )
    loaded = scenario_from_dict(
        data(inference={"tools": {"file": "tools.yaml", "choice": "any"}}), base_dir=tmp_path
    )
    tools = loaded.model_options(SONNET)["tools"]
    assert [t.name for t in tools.specs] == ["lookup_order"] and tools.choice == "any"


def test_a_missing_tools_file_names_where_it_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        scenario_from_dict(data(inference={"tools": {"file": "nope.yaml"}}), base_dir=tmp_path)
    assert "nope.yaml" in caught.value.problems[0] and str(tmp_path) in caught.value.problems[0]


def test_guardrail_version_may_be_written_as_a_number() -> None:
    loaded = scenario(
        inference={"guardrail": {"identifier": "gr1", "version": 3, "trace": "enabled"}}
    )
    assert loaded.model_options(SONNET)["guardrail"].version == "3"


@pytest.mark.parametrize(
    ("model", "style"),
    [
        ("us.anthropic.claude-3-7-sonnet-20250219-v1:0", "budget"),
        ("anthropic.claude-sonnet-4-20250514-v1:0", "budget"),
        ("global.anthropic.claude-haiku-4-5-20251001-v1:0", "budget"),
        ("anthropic.claude-3-5-haiku-20241022-v1:0", "none"),
        ("us.amazon.nova-2-lite-v1:0", "effort"),
        ("us.amazon.nova-pro-v1:0", "none"),
        ("openai.gpt-oss-20b-1:0", "effort"),
        ("meta.llama3-3-70b-instruct-v1:0", None),
    ],
)
def test_reasoning_style_by_family(model: str, style: str | None) -> None:
    assert reasoning_style(model) == style


def test_conversation_keys_are_checked() -> None:
    loaded = scenario(conversation={"turns": 3, "think_time": "2s", "follow_ups": ["more?"]})
    assert loaded.conversation is not None and loaded.conversation.think_time == 2.0
    found = " ".join(problems(conversation={"turns": 1, "follow_ups": []}))
    assert "conversation.turns" in found and "conversation.follow_ups" in found


def test_save_scenario_writes_tools_from_a_file_inline(tmp_path: Path) -> None:
    source = tmp_path / "a"
    source.mkdir()
    (source / "tools.yaml").write_text(yaml.safe_dump(TOOLS))
    scenario_file = source / "s.yaml"
    scenario_file.write_text(yaml.safe_dump(data(inference={"tools": {"file": "tools.yaml"}})))
    saved = tmp_path / "b" / "saved.yaml"
    saved.parent.mkdir()
    build_scenario(scenario_file, {}, save_to=saved)
    again = load_scenario(saved)
    assert again.model_options(SONNET)["tools"].specs[0].name == "lookup_order"
