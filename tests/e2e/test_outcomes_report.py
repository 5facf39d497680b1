"""How answers ended, through `loadgen run` against the emulator, request by request: every
samples.jsonl line carries the emulator's request id and the stop reason its log says it
sent; report.json counts the stop reasons, flags the guardrail, filtered and truncated
answers, leaves out of the latency figures the ones the scenario excludes, and sums the cache
tokens and times the reasoning as the emulator's log says (tests/emulator_log.py)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadgen.emulator import EmulatorConfig, EmulatorProcess
from tests.conftest import FAKE_KEY_ID, FAKE_SECRET
from tests.emulator_log import (
    CLIENT_MEDIAN_MS,
    CLIENT_TAIL_MS,
    EmulatorLog,
    lateness_max_ms,
    percentile,
)
from tests.helpers import loadgen

PLAIN = "quick-model"  # stop reasons of every kind, a guardrail that intervenes
THINKER = "us.anthropic.claude-haiku-4-5-20251001-v1:0"  # reasoning and a cached system prompt
TALKER = "session-model"  # conversations of 2 turns with tools, on the priority tier
EXCLUDED = ["content_filtered", "guardrail_intervened"]
EMULATOR: dict[str, Any] = {
    "profiles": {
        PLAIN: {
            "ttft_ms": 40,
            "itl_ms": 5,
            "output_tokens": 12,
            "output_tokens_jitter": 8,
            # Rates high enough that ~45 answers end in each way (a miss: about 1 in 400).
            "guardrail_intervention_rate": 0.2,
            "stops": {"content_filtered": 0.2, "model_context_window_exceeded": 0.2},
        },
        THINKER: {
            "ttft_ms": 60,
            "itl_ms": 5,
            "output_tokens": 8,
            "reasoning_tokens": 20,
            "reasoning_tokens_jitter": 10,
            "cache_min_tokens": 0,
        },
        TALKER: {"ttft_ms": 30, "itl_ms": 5, "output_tokens": 6, "tool_use_rate": 0.5},
    }
}
TOOLS = {
    "choice": "auto",
    "specs": [
        {
            "name": "lookup_order",
            "description": "The state of an order.",
            "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}}},
        }
    ],
}
SCENARIO: dict[str, Any] = {
    "name": "outcomes",
    "models": [
        {
            "id": PLAIN,
            "max_tokens": 14,  # some answers run into it: max_tokens
            "guardrail": {"identifier": "gr0outcomes", "version": "1", "trace": "enabled"},
        },
        {
            "id": THINKER,
            "reasoning": {"budget_tokens": 1024},
            "cache": {"places": ["system"]},
        },
    ],
    "prompt": {
        "system": "You answer support tickets briefly and exactly. " * 30,
        "template": "Summarise: {body}",
    },
    "dataset": {"rows": [{"id": "a", "body": "word " * 20}, {"id": "b", "body": "text " * 25}]},
    "inference": {"max_tokens": 2048},
    "load": {"rate": 30, "arrival": "constant", "duration": "3s"},
    "outcomes": {"exclude_from_latency": EXCLUDED},
    "cost": {"allow_unpriced": True},
    "seed": 5,
}

SESSIONS: dict[str, Any] = {
    **{k: v for k, v in SCENARIO.items() if k not in ("models", "outcomes")},
    "name": "sessions",
    "models": [TALKER],
    "inference": {"max_tokens": 200, "tools": TOOLS, "service_tier": "priority"},
    "conversation": {"turns": 2, "follow_ups": ["And the refund?"]},
    "load": {"rate": 10, "arrival": "constant", "duration": "1s"},
}


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator") / "requests.jsonl"


@pytest.fixture(scope="module")
def emulator(log_path: Path) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(EmulatorConfig.model_validate(EMULATOR), log_path=log_path) as process:
        yield process


Run = tuple[dict[str, Any], list[dict[str, Any]], dict[str, dict[str, Any]], str]


@pytest.fixture(scope="module")
def run(emulator: EmulatorProcess, log_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return _run(SCENARIO, emulator, log_path, tmp_path_factory)


@pytest.fixture(scope="module")
def sessions(
    emulator: EmulatorProcess, log_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Run:
    return _run(SESSIONS, emulator, log_path, tmp_path_factory)


def _run(
    data: dict[str, Any],
    emulator: EmulatorProcess,
    log_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Run:
    """One run: its report, its samples, the emulator's log lines by request id, stdout."""
    base = tmp_path_factory.mktemp(data["name"])
    env = {  # credentials from the environment only, nothing read from the machine's ~/.aws
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(base / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(base / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    log = EmulatorLog(log_path, emulator.stats)
    mark = log.mark()
    scenario = base / "outcomes.yaml"
    scenario.write_text(
        yaml.safe_dump({**data, "target": {"endpoint_url": emulator.url}}), encoding="utf-8"
    )
    out = base / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_PROFILE", raising=False)
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        completed = loadgen("run", str(scenario), "--out", str(out), "--no-html", env=env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    logged = {line["request_id"]: line for line in log.lines(mark, outcome=None)}
    return report, samples, logged, completed.stdout


def _measured(samples: list[dict[str, Any]], model: str) -> list[dict[str, Any]]:
    return [s for s in samples if s["model"] == model and not s["warmup"]]


def test_each_line_names_the_emulators_request_and_its_stop_reason(run: Any) -> None:
    _, samples, logged, _ = run
    ids = [s["server_request_id"] for s in samples]
    assert all(ids) and len(set(ids)) == len(ids)  # every request, its own id
    for sample in samples:
        line = logged[sample["server_request_id"]]  # the emulator answered this very request
        assert line["model"] == sample["model"]
        if sample["outcome"] == "ok":
            assert sample["stop_reason"] == line["stop_reason"], sample["server_request_id"]


def test_stop_reasons_and_flagged_outcomes_are_the_logs(run: Any) -> None:
    report, samples, logged, stdout = run
    for model in (PLAIN, THINKER):
        answered = [s for s in _measured(samples, model) if s["outcome"] == "ok"]
        expected = Counter(logged[s["server_request_id"]]["stop_reason"] for s in answered)
        section = report["models"][model]
        assert section["stop_reasons"] == dict(expected)
        outcomes = section["outcomes"]
        assert outcomes["guardrail_intervened"]["count"] == expected["guardrail_intervened"]
        assert outcomes["content_filtered"]["count"] == expected["content_filtered"]
        truncated = expected["max_tokens"] + expected["model_context_window_exceeded"]
        assert outcomes["truncated"]["count"] == truncated
    plain = Counter(report["models"][PLAIN]["stop_reasons"])
    # Not vacuous: the plain model's answers ended in every flagged way.
    for reason in (*EXCLUDED, "max_tokens", "model_context_window_exceeded", "end_turn"):
        assert plain[reason] > 0, (reason, plain)
    assert f"flagged: {PLAIN}:" in stdout


def test_excluded_outcomes_leave_the_latency_figures(run: Any) -> None:
    report, samples, _, _ = run
    section = report["models"][PLAIN]
    answered = [s for s in _measured(samples, PLAIN) if s["outcome"] == "ok"]
    left_out = [s for s in answered if s["stop_reason"] in EXCLUDED]
    outcomes = section["outcomes"]
    assert outcomes["excluded_from_latency"] == sorted(EXCLUDED)
    assert outcomes["excluded_requests"] == len(left_out) > 0
    assert outcomes["excluded_output_tokens"] == sum(s["output_tokens"] for s in left_out)
    assert section["latency_ms"]["ttft"]["service"]["count"] == len(answered) - len(left_out)
    assert section["requests"]["ok"] == len(answered)  # still answers, counted as such


def test_cache_tokens_and_reasoning_time_are_the_emulators(
    run: Any, emulator: EmulatorProcess
) -> None:
    report, samples, logged, _ = run
    section = report["models"][THINKER]
    answered = [s for s in _measured(samples, THINKER) if s["outcome"] == "ok"]
    lines = [logged[s["server_request_id"]] for s in answered]
    cache = section["cache"]
    assert cache["read_tokens"] == sum(line["cache_read_tokens"] for line in lines) > 0
    assert cache["write_tokens"] == sum(line["cache_write_tokens"] for line in lines) > 0
    readers = sum(line["cache_read_tokens"] > 0 for line in lines)
    assert cache["read_requests"] == readers
    assert cache["ttft_hit_ms"]["count"] == readers
    reasoning = section["reasoning"]
    assert reasoning["requests"] == len(answered)
    # TTFA - TTFT is the reasoning time the emulator planned, within the client's own costs.
    late_ms = lateness_max_ms(emulator.stats())
    gaps = [
        (s["ttfa_service_us"] - s["ttft_service_us"]) / 1000 - line["reasoning_ms"]
        for s, line in zip(answered, lines, strict=True)
        if s["ttfa_service_us"] is not None
    ]
    assert gaps
    assert percentile([abs(g) for g in gaps], 50) <= CLIENT_MEDIAN_MS + late_ms
    assert max(abs(g) for g in gaps) <= CLIENT_TAIL_MS + late_ms
    assert all(s["reasoning_us"] is not None for s in answered)
    # TTFT counts the reasoning deltas: it comes before the first answer token.
    assert all(s["first_token_us"] == s["first_reasoning_us"] for s in answered)


def test_turns_tools_and_tiers_are_the_logs(sessions: Run) -> None:
    report, samples, logged, stdout = sessions
    section = report["models"][TALKER]
    answered = [s for s in _measured(samples, TALKER) if s["outcome"] == "ok"]
    lines = {s["server_request_id"]: logged[s["server_request_id"]] for s in answered}
    turns = section["turns"]
    assert sorted(turns) == ["1", "2"]
    for turn, figures in turns.items():
        of_turn = [s for s in answered if s["turn"] == int(turn)]
        assert figures["requests"] == len(of_turn) > 0
        every_input = [
            s["input_tokens"] + s["cache_read_tokens"] + s["cache_write_tokens"] for s in of_turn
        ]
        assert figures["input_tokens_total"] == sum(every_input)
        ttft = sorted(s["ttft_service_us"] / 1000 for s in of_turn)
        assert figures["ttft_p99_ms"] == pytest.approx(ttft[-1], rel=2e-3)  # HDR: 0.1 %
    # A later turn sends the conversation so far: more input than the first.
    assert turns["2"]["input_tokens_mean"] > turns["1"]["input_tokens_mean"]
    tool_calls = sum(line["stop_reason"] == "tool_use" for line in lines.values())
    assert section["tool_use"]["answers"] == tool_calls > 0
    assert section["tool_use"]["requests"] == sum(s["first_tool_us"] is not None for s in answered)
    tiers = Counter(line["service_tier"] for line in lines.values())
    assert section["service_tiers"] == dict(tiers) == {"priority": len(answered)}
    assert "conversation turns" in stdout and f"served by tier: {TALKER}:" in stdout
