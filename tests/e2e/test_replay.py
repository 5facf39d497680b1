"""`loadgen replay` end to end, against an emulator in its own process that logs each request
it received and what it asked for: the requests are planned at the log's instants divided by
the speed (how close to them they arrive is benchmarks/replay_arrivals.py's to measure), the
models, APIs, token counts and options are the log's, and the commands that cannot take a
replay refuse it before any request. The log is
made here by loadgen/replay/sample_logs.py, with known instants; the instants a replay should
keep are worked out in this file from the rule docs/replay.md states, not from loadgen's code.
Readers and selection in detail: tests/unit/replay/."""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from loadgen.core.sample import read_samples
from loadgen.emulator import EmulatorConfig, EmulatorProcess
from loadgen.replay.sample_logs import SampleShape, sample_records, write_s3_layout
from tests.emulator_log import EmulatorLog
from tests.helpers import loadgen

MODELS = ("quick-a", "quick-b")
# Short answers, and a huge TPM quota so that each request's reservation (input + max_tokens)
# is in the emulator's log: max_tokens is read back from it. A latency-optimized variant, so
# that the log says which requests asked for it.
PROFILE = {
    "ttft_ms": 20,
    "itl_ms": 2,
    "output_tokens": 100_000,  # always cut by the request's max_tokens
    "tokens_per_delta": 8,
    "quota": {"tpm": 1_000_000_000},
    "latency_optimized": {"ttft_ms": 10},
}
# Answers that end before max_tokens: the emulator calls a tool only in an answer that ends.
OPTIONS_MODEL = "quick-tools"
# About 120 calls: enough that one scheduling hiccup is not the p99 (nearest rank: the second
# slowest of 101 or more), few enough for a 12 s run at 1x.
SHAPE = SampleShape(
    seconds=12,
    rate=10.0,
    seed=7,
    models=MODELS,
    operations=("ConverseStream", "Converse"),
    input_median=200,
    output_median=20,
)
SEED = 5


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator") / "requests.jsonl"


@pytest.fixture(scope="module")
def emulator(log_path: Path) -> Iterator[EmulatorProcess]:
    profiles = {model: PROFILE for model in MODELS}
    profiles[OPTIONS_MODEL] = {**PROFILE, "output_tokens": 5}
    config = EmulatorConfig.model_validate({"profiles": profiles})
    with EmulatorProcess(config, log_path=log_path) as process:
        yield process


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return sample_records(SHAPE)


def expected_instants_s(records: list[dict[str, Any]], seed: int) -> list[float]:
    """The documented rule (docs/replay.md, "Within a logged second"): the n calls of second S
    at S + (k + u) / n, in log order, u drawn for S by Random(f"replay-spread:{seed}:{S}")."""
    by_second: dict[int, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        moment = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
        second = int(moment.timestamp())
        by_second[second].append(index)
    instants = [0.0] * len(records)
    for second, members in by_second.items():
        u = random.Random(f"replay-spread:{seed}:{second}").random()
        for k, index in enumerate(members):
            instants[index] = second + (k + u) / len(members)
    return instants


def load_lines(lines: list[dict[str, Any]], records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The emulator's lines without preflight's probes (one per model and API, before load;
    they alone ask max_tokens 1: no call of the sample log has one output token)."""
    assert min(r["output"]["outputTokenCount"] for r in records) > 1
    return [line for line in lines if line["reserved_tokens"] - line["input_tokens"] != 1]


def logged(record: dict[str, Any]) -> tuple[str, str, int, int]:
    """A call as logged: model, the emulator's name for its API, input and output tokens."""
    api = {"ConverseStream": "converse-stream", "Converse": "converse"}[record["operation"]]
    tokens = record["input"]["inputTokenCount"], record["output"]["outputTokenCount"]
    return record["modelId"], api, *tokens


def asked(line: dict[str, Any]) -> tuple[str, str, int, int]:
    """A request as the emulator received it: model, API, input tokens and max_tokens."""
    max_tokens = line["reserved_tokens"] - line["input_tokens"]
    return line["model"], line["api"], line["input_tokens"], max_tokens


def replay(
    source: Path | str, out: Path, emulator: EmulatorProcess, env: dict[str, str], *flags: str
) -> Any:
    return loadgen(
        "replay",
        str(source),
        "--endpoint-url",
        emulator.url,
        "--seed",
        str(SEED),
        "--allow-unpriced",
        "--no-html",
        "--out",
        str(out),
        *flags,
        env=env,
    )


@pytest.mark.parametrize("speed", [1, 4])
def test_requests_are_planned_at_the_logs_instants_divided_by_speed(
    tmp_path: Path,
    emulator: EmulatorProcess,
    log_path: Path,
    records: list[dict[str, Any]],
    aws_env: dict[str, str],
    speed: int,
) -> None:
    assert len(records) > 100  # SHAPE's comment
    write_s3_layout(records, tmp_path / "logs")
    log = EmulatorLog(log_path, emulator.stats)
    mark = log.mark()
    completed = replay(
        tmp_path / "logs", tmp_path / "out", emulator, aws_env, "--speed", str(speed)
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = load_lines(log.lines(mark, outcome=None), records)
    assert len(lines) == len(records)

    # The schedule: each request was planned at its call's instant in the log / speed (to the
    # µs the samples keep), both from their first. How close to it the requests arrived is
    # the benchmark's to measure on a quiet machine (benchmarks/replay_arrivals.py), not a
    # test's on a shared one.
    planned = sorted(instant / speed for instant in expected_instants_s(records, SEED))
    samples = sorted(read_samples(tmp_path / "out" / "samples.jsonl"), key=lambda s: s.intended_us)
    intended = [s.intended_us for s in samples if not s.warmup]
    assert len(intended) == len(planned)
    for got_us, want_s in zip(intended, planned, strict=True):
        assert abs((got_us - intended[0]) - (want_s - planned[0]) * 1e6) <= 1.0
    # The emulator received each one once, by its own log.
    assert len({line["request_id"] for line in lines}) == len(records)

    # What was asked: the log's models and operations, its input token counts (the emulator
    # counts a quarter of the characters, as the synthetic prompts are made to), and
    # max_tokens = the logged output count (the reservation is input + max_tokens).
    assert Counter(map(asked, lines)) == Counter(map(logged, records))

    section = json.loads((tmp_path / "out" / "report.json").read_text())["replay"]
    assert (section["records"], section["planned"], section["sent"]) == (len(records),) * 3
    assert section["skipped_records"] == {} and section["skipped_files"] == {}
    assert section["spreading"]["seed"] == SEED
    assert sum(section["arrivals"]["source"]) == sum(section["arrivals"]["replayed"])


def test_what_cannot_be_replayed_is_counted_and_named(
    tmp_path: Path,
    emulator: EmulatorProcess,
    records: list[dict[str, Any]],
    aws_env: dict[str, str],
) -> None:
    folder = tmp_path / "logs"
    good = records[:6]
    write_s3_layout(good, folder)
    bad = folder / "bad.jsonl"
    embedding = {
        **records[0],
        "modelId": "amazon.titan-embed-text-v2:0",
        "operation": "InvokeModel",
    }
    guardrail = {**records[0], "operation": "ApplyGuardrail"}
    wrong_time = {**records[1], "timestamp": "yesterday"}
    lines = ["{not json", *(json.dumps(r) for r in (embedding, guardrail, wrong_time))]
    bad.write_text("\n".join(lines) + "\n")
    # A gzip cut off in the middle: the whole lines before the cut are kept.
    whole = gzip.compress("".join(json.dumps(r) + "\n" for r in records[6:12]).encode())
    (folder / "cut.json.gz").write_bytes(whole[: len(whole) * 2 // 3])
    (folder / "notes.txt").write_text("hello\n")

    completed = replay(folder, tmp_path / "out", emulator, aws_env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    section = json.loads((tmp_path / "out" / "report.json").read_text())["replay"]
    assert section["skipped_records"] == {
        "malformed_record": 2,
        "not_a_text_model": 1,
        "unsupported_operation": 1,
    }
    assert section["skipped_files"] == {"gzip_corrupt": 1, "unknown_layout": 1}
    kept_from_cut = section["records"] - len(good)
    assert 0 < kept_from_cut < 6  # what came before the cut, no more
    assert section["sent"] == section["records"]  # nothing else lost
    named = {
        (example["reason"], Path(example["where"].split(":")[0]).name)
        for example in section["skipped_examples"]
    }
    assert ("gzip_corrupt", "cut.json.gz") in named
    assert ("unsupported_operation", "bad.jsonl") in named


def test_nothing_replayable_is_a_usage_error(
    tmp_path: Path, emulator: EmulatorProcess, aws_env: dict[str, str]
) -> None:
    source = tmp_path / "empty.jsonl"
    source.write_text("{not json\n")
    completed = replay(source, tmp_path / "out", emulator, aws_env)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "nothing to replay" in completed.stderr
    assert "malformed_record 1" in completed.stderr


def test_an_s3_prefix_is_read_with_the_users_credentials(
    tmp_path: Path,
    emulator: EmulatorProcess,
    log_path: Path,
    moto_url: str,
    records: list[dict[str, Any]],
    aws_env: dict[str, str],
) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    s3.create_bucket(Bucket="invocation-logs")
    folder = tmp_path / "logs"
    for path in write_s3_layout(records, folder):
        s3.upload_file(str(path), "invocation-logs", f"prod/{path.relative_to(folder)}")
    log = EmulatorLog(log_path, emulator.stats)
    mark = log.mark()
    completed = replay(
        "s3://invocation-logs/prod/AWSLogs/",
        tmp_path / "out",
        emulator,
        aws_env,
        "--s3-endpoint-url",
        moto_url,
        "--speed",
        "8",
        "--map",
        "quick-a=quick-b",
        "--limit",
        "10",
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = load_lines(log.lines(mark, outcome=None), records)
    assert len(lines) == 10
    assert {line["model"] for line in lines} == {"quick-b"}
    section = json.loads((tmp_path / "out" / "report.json").read_text())["replay"]
    assert section["files"] == len(list(folder.rglob("*.json.gz")))
    assert section["skipped_records"] == {"beyond_limit": len(records) - 10}
    assert section["models"][0]["source_models"] == sorted(MODELS)


def test_an_s3_prefix_that_cannot_be_read_stops_before_load(
    tmp_path: Path, emulator: EmulatorProcess, moto_url: str, aws_env: dict[str, str]
) -> None:
    flags = ("--s3-endpoint-url", moto_url)
    completed = replay("s3://no-such-bucket/AWSLogs/", tmp_path / "out", emulator, aws_env, *flags)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "s3://no-such-bucket/AWSLogs/: cannot list the objects (NoSuchBucket" in completed.stderr
    assert not (tmp_path / "out" / "report.json").exists()


def options_log(model: str) -> list[dict[str, Any]]:
    """One call a second, each logged with an option: latency-optimized, cache token counts
    without a body (twice: the second reads what the first wrote), a body with tools and a
    service tier, a body of three turns with a cache point after the first two."""
    base = sample_records(SampleShape(seconds=1, rate=30.0, seed=3, models=(model,)))[0]
    cached_input = {**base["input"], "inputTokenCount": 60, "cacheReadInputTokenCount": 2000}
    tools_body = {
        "messages": [{"role": "user", "content": [{"text": "What is the weather in Oslo?"}]}],
        "toolConfig": {
            "tools": [
                {
                    "toolSpec": {
                        "name": "get_weather",
                        "description": "The weather in a city.",
                        "inputSchema": {"json": {"type": "object"}},
                    }
                }
            ],
            "toolChoice": {"any": {}},
        },
        "serviceTier": {"type": "flex"},
    }
    turns_body = {
        "messages": [
            {"role": "user", "content": [{"text": "Summarise this contract. " * 400}]},
            {"role": "assistant", "content": [{"text": "It is a lease."}]},
            {"role": "user", "content": [{"text": "And clause 4?"}]},
        ],
    }
    turns_body["messages"][1]["content"].append({"cachePoint": {"type": "default"}})
    changes: list[dict[str, Any]] = [
        {"performanceConfig": {"latency": "optimized"}},
        {"input": cached_input},
        {"input": cached_input},
        {"input": {**base["input"], "inputBodyJson": tools_body}},
        {"input": {**base["input"], "inputBodyJson": turns_body}},
    ]
    start = datetime.fromisoformat(base["timestamp"].replace("Z", "+00:00"))
    return [
        {
            **base,
            **change,
            "timestamp": (start + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for second, change in enumerate(changes)
    ]


def test_logged_options_are_sent(
    tmp_path: Path, emulator: EmulatorProcess, log_path: Path, aws_env: dict[str, str]
) -> None:
    records = options_log(OPTIONS_MODEL)
    source = tmp_path / "options.jsonl"
    source.write_text("".join(json.dumps(record) + "\n" for record in records))
    log = EmulatorLog(log_path, emulator.stats)
    mark = log.mark()
    completed = replay(source, tmp_path / "out", emulator, aws_env, "--speed", "4")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    lines = sorted(
        # Preflight's probes ask max_tokens 1 (the reservation: input + cache write + max).
        (
            line
            for line in log.lines(mark, outcome=None)
            if line["reserved_tokens"] - line["input_tokens"] - line.get("cache_write_tokens", 0)
            > 1
        ),
        key=lambda line: line["received_unix"],
    )
    assert len(lines) == len(records)
    optimized, first_cached, second_cached, tools, turns = lines
    # What the emulator read from each request (its request log).
    assert optimized["latency_optimized"] is True
    assert not any(line["latency_optimized"] for line in lines[1:])
    assert first_cached["cache_write_tokens"] > 0
    assert second_cached["cache_read_tokens"] == first_cached["cache_write_tokens"]
    assert tools["tool_use"] == "get_weather" and tools["service_tier"] == "flex"
    assert turns["cache_write_tokens"] > 0  # after the first two turns
    section = json.loads((tmp_path / "out" / "report.json").read_text())["replay"]
    assert section["options_sent"] == {
        "latency_optimized": 1,
        "service_tier": 1,
        "cached": 3,
        "tools": 1,
        "reasoning": 0,
        "history": 1,
        "additional_fields": 0,
    }
    assert section["options_left_out"] == {}
    printed = " ".join((completed.stdout + completed.stderr).split())
    assert "options sent as logged: cached 3, history 1, latency_optimized 1" in printed


def replay_scenario(folder: Path, records: list[dict[str, Any]], **extra: Any) -> Path:
    write_s3_layout(records[:10], folder / "logs")
    scenario = folder / "replay.yaml"
    scenario.write_text(
        json.dumps({"name": "replayed", "load": {"replay": {"source": "logs"}}, **extra})
    )
    return scenario


def test_a_sweep_of_a_replay_is_refused_before_any_request(
    tmp_path: Path,
    emulator: EmulatorProcess,
    log_path: Path,
    records: list[dict[str, Any]],
    aws_env: dict[str, str],
) -> None:
    scenario = replay_scenario(tmp_path, records)
    log = EmulatorLog(log_path, emulator.stats)
    mark = log.mark()
    completed = loadgen(
        "sweep",
        str(scenario),
        "--endpoint-url",
        emulator.url,
        "--out",
        str(tmp_path / "out"),
        env=aws_env,
    )
    assert completed.returncode == 2, completed.stdout + completed.stderr
    # Why (a replay has its own arrivals; a sweep sets the rate), and what to do instead.
    assert "a sweep cannot run a replay" in completed.stderr
    assert "loadgen replay SOURCE --speed X" in completed.stderr
    assert "--rate-scale X" in completed.stderr and "load.rate" in completed.stderr
    assert log.lines(mark, outcome=None) == []  # nothing sent, not even preflight
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("command", ["dashboard", "alarms"])
def test_commands_that_need_model_ids_refuse_a_replays_star(
    tmp_path: Path, records: list[dict[str, Any]], aws_env: dict[str, str], command: str
) -> None:
    thresholds = ["ttft.p95 < 800ms"]
    scenario = replay_scenario(tmp_path, records, thresholds=thresholds)
    completed = loadgen(command, str(scenario), "--dry-run", env=aws_env)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    assert "models: '*'" in completed.stderr and "list the model ids" in completed.stderr
    # Named, they are what the dashboard or alarms are for.
    named = replay_scenario(tmp_path, records, thresholds=thresholds, models=[MODELS[0]])
    completed = loadgen(command, str(named), "--dry-run", env=aws_env)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert MODELS[0] in completed.stdout
