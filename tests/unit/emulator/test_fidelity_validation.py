"""Request validation as Bedrock does it (validation.py): which requests are refused, in
Bedrock's words; and through the server, before the quotas, logged as invalid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from loadgen.emulator import Emulator, EmulatorConfig, Profile
from loadgen.emulator.validation import (
    ALTERNATE_ROLES,
    INVALID_MODEL_ID,
    START_WITH_USER,
    max_tokens_message,
    request_problem,
)

USER = {"role": "user", "content": [{"text": "hi"}]}
ASSISTANT = {"role": "assistant", "content": [{"text": "hello"}]}
LIMITED = Profile(max_output_tokens=1000)


def _converse(**fields: Any) -> dict[str, Any]:
    return {"messages": [USER], **fields}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, START_WITH_USER),
        ({"messages": []}, START_WITH_USER),
        ({"messages": [ASSISTANT, USER]}, START_WITH_USER),
        ({"messages": [USER, USER]}, ALTERNATE_ROLES),
        ({"messages": [USER, ASSISTANT, ASSISTANT]}, ALTERNATE_ROLES),
        ({"messages": [USER, ASSISTANT, USER]}, None),
        (_converse(inferenceConfig={"maxTokens": 1001}), max_tokens_message(1000)),
        (_converse(inferenceConfig={"maxTokens": 1000}), None),
        (
            _converse(inferenceConfig={"temperature": 1.5}),
            "Value '1.5' at 'inferenceConfig.temperature' failed to satisfy constraint: Member "
            "must have value less than or equal to 1",
        ),
        (
            _converse(inferenceConfig={"topP": -0.5}),
            "Value '-0.5' at 'inferenceConfig.topP' failed to satisfy constraint: Member must "
            "have value greater than or equal to 0",
        ),
        (_converse(inferenceConfig={"temperature": 1, "topP": 0}), None),
    ],
)
def test_converse_requests(body: dict[str, Any], expected: str | None) -> None:
    for api in ("converse", "converse-stream"):
        assert request_problem(api, "", body, LIMITED, model_known=True) == expected


def test_the_maximum_output_is_checked_only_where_a_profile_sets_one() -> None:
    body = _converse(inferenceConfig={"maxTokens": 10**6})
    assert request_problem("converse", "", body, Profile(), model_known=True) is None
    assert max_tokens_message(1000) == (
        "The maximum tokens you requested exceeds the model limit of 1000. Try again with a "
        "maximum tokens value that is lower than 1000."
    )


def test_anthropic_bodies_merge_turns_but_keep_the_limits() -> None:
    turns = {"anthropic_version": "bedrock-2023-05-31", "messages": [USER, USER]}
    assert (
        request_problem(
            "invoke", "anthropic", {**turns, "max_tokens": 5}, LIMITED, model_known=True
        )
        is None
    )
    assert request_problem(
        "invoke", "anthropic", {**turns, "max_tokens": 5000}, LIMITED, model_known=True
    ) == max_tokens_message(1000)
    hot = {**turns, "max_tokens": 5, "temperature": 2}
    problem = request_problem(
        "invoke-with-response-stream", "anthropic", hot, LIMITED, model_known=True
    )
    assert problem is not None and "'temperature'" in problem
    assert (
        request_problem(
            "invoke", "anthropic", {"max_tokens": 5, "messages": []}, LIMITED, model_known=True
        )
        == START_WITH_USER
    )


def test_nova_bodies_are_held_to_conversation_rules() -> None:
    body = {"messages": [USER, USER], "inferenceConfig": {"maxTokens": 5}}
    assert request_problem("invoke", "nova", body, LIMITED, model_known=True) == ALTERNATE_ROLES


def test_unknown_model_ids_and_the_openai_path() -> None:
    assert request_problem("converse", "", _converse(), LIMITED, model_known=False) == (
        INVALID_MODEL_ID
    )
    assert request_problem("openai-chat", "", {}, LIMITED, model_known=False) is None


def test_strict_model_ids_know_profiles_prefixes_and_arns() -> None:
    config = EmulatorConfig.model_validate({"profiles": {"amazon.nova-x-v1:0": {}}})
    assert config.knows("amazon.nova-x-v1:0")
    assert config.knows("us.amazon.nova-x-v1:0")
    assert config.knows("arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a")
    assert not config.knows("amazon.nova-y-v1:0")


async def test_the_server_refuses_before_the_quotas_and_logs_invalid(tmp_path: Path) -> None:
    config = EmulatorConfig.model_validate(
        {
            "strict_model_ids": True,
            "profiles": {
                "amazon.nova-x-v1:0": {
                    "ttft_ms": 0,
                    "itl_ms": 0,
                    "output_tokens": 2,
                    "max_output_tokens": 100,
                    "quota": {"rpm": 1},
                }
            },
        }
    )
    log = tmp_path / "log.jsonl"
    bodies = [
        ("amazon.nova-x-v1:0", {"messages": [USER], "inferenceConfig": {"maxTokens": 101}}),
        ("amazon.nova-y-v1:0", {"messages": [USER]}),
        ("amazon.nova-x-v1:0", {"messages": [ASSISTANT]}),
        ("amazon.nova-x-v1:0", {"messages": [USER]}),  # the one the RPM of 1 admits
    ]
    answers = []
    async with Emulator(config, log_path=log) as emulator, aiohttp.ClientSession() as session:
        for model, body in bodies:
            url = f"{emulator.url}/model/{model}/converse"
            async with session.post(url, json=body) as response:
                answers.append(
                    (
                        response.status,
                        response.headers.get("x-amzn-ErrorType", ""),
                        await response.json(),
                    )
                )
        stats = emulator.stats()
    assert [status for status, _, _ in answers] == [400, 400, 400, 200]
    assert all(kind.startswith("ValidationException:") for _, kind, _ in answers[:3])
    assert [payload["message"] for _, _, payload in answers[:3]] == [
        max_tokens_message(100),
        INVALID_MODEL_ID,
        START_WITH_USER,
    ]
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [line["outcome"] for line in lines] == ["invalid", "invalid", "invalid", "ok"]
    assert stats["invalid"] == 3
    assert stats["models"]["amazon.nova-x-v1:0"]["quota"]["admitted"] == 1
