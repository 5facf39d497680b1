"""Issue 16's timing and cache checks through `loadgen run`, request by request, against what
the emulator's log says it did (tests/emulator_log.py); the precision on a quiet machine is
benchmarks/accuracy_reasoning.py's.

- Reasoning: TTFT is the first reasoning delta, the answer comes after it, and loadgen's
  reasoning time (first answer token - first token) is the time between the emulator's two
  writes (`first_answer_write_ms - first_write_ms`).
- Caching: the first request with the shared prefix writes it, the second reads it and its TTFT
  is the uncached one less what the emulator says the read took off; every request's cost is
  its tokens at the catalogue's cache prices, and the emulator's TPM settlement leaves the
  cache reads out.

The emulator runs in its own process with a request log (as in test_outcomes_report.py):
`--emulate` keeps no log to compare with.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from loadgen.cost.pricing import PriceBook
from loadgen.emulator import EmulatorConfig, EmulatorProcess
from tests.conftest import FAKE_KEY_ID, FAKE_SECRET
from tests.emulator_log import (
    CLIENT_MEDIAN_MS,
    CLIENT_TAIL_MS,
    ROUNDING_MS,
    EmulatorLog,
    percentile,
)
from tests.helpers import loadgen

REGION = "us-east-1"
THINKER = "anthropic.claude-sonnet-4-5-20250929-v1:0"  # a thinking budget, no cache point
CACHER = "anthropic.claude-haiku-4-5-20251001-v1:0"  # a cache point after the shared prefix
BURNDOWN = 5
QUOTA = {"tpm": 100_000_000, "output_burndown": BURNDOWN}  # metered, never refused
# About 1,900 tokens that every prompt starts with (the template's text before its field).
PREFIX = "You triage support tickets for a storage product. Be brief and exact. " * 110
EMULATOR: dict[str, Any] = {
    "profiles": {
        THINKER: {
            "ttft_ms": 60,
            "itl_ms": 5,
            "output_tokens": 8,
            "reasoning_tokens": 24,  # varied reasoning times: 70 to 170 ms
            "reasoning_tokens_jitter": 10,
            "quota": QUOTA,
        },
        CACHER: {
            "ttft_ms": 200,
            "itl_ms": 5,
            "output_tokens": 8,
            "prefill_ms_per_1k_tokens": 50,  # a read of the prefix saves about 95 ms
            "cache_ttft_floor": 0.3,
            "quota": QUOTA,
        },
    }
}
SCENARIO: dict[str, Any] = {
    "name": "reasoning-accuracy",
    "models": [
        {"id": THINKER, "reasoning": {"budget_tokens": 1024}},
        {"id": CACHER, "cache": {"places": ["prefix"]}},
    ],
    "prompt": {"template": PREFIX + "\n\nTicket: {body}"},
    "dataset": {"rows": [{"id": f"r{i}", "body": f"ticket {i} " * 15} for i in range(6)]},
    "inference": {"max_tokens": 2048},
    # Shared between the two models: about 30 requests each.
    "load": {"rate": 30, "arrival": "constant", "duration": "2s"},
    "seed": 16,
}


@pytest.fixture(scope="module")
def log_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("emulator") / "requests.jsonl"


@pytest.fixture(scope="module")
def emulator(log_path: Path) -> Iterator[EmulatorProcess]:
    with EmulatorProcess(EmulatorConfig.model_validate(EMULATOR), log_path=log_path) as process:
        yield process


Run = tuple[dict[str, Any], list[dict[str, Any]], dict[str, dict[str, Any]]]


@pytest.fixture(scope="module")
def run(emulator: EmulatorProcess, log_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """One run: its report, its measured samples in the order sent, the log lines by id."""
    base = tmp_path_factory.mktemp("reasoning")
    env = {  # credentials from the environment only, nothing read from the machine's ~/.aws
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(base / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(base / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    log = EmulatorLog(log_path, emulator.stats)
    mark = log.mark()
    scenario = base / "scenario.yaml"
    target = {"endpoint_url": emulator.url, "region": REGION}
    scenario.write_text(yaml.safe_dump({**SCENARIO, "target": target}), encoding="utf-8")
    out = base / "out"
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AWS_PROFILE", raising=False)
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        completed = loadgen("run", str(scenario), "--out", str(out), "--no-html", env=env)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    lines = (out / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    samples = [s for s in map(json.loads, lines) if not s["warmup"]]
    samples.sort(key=lambda s: s["send_us"])
    logged = {line["request_id"]: line for line in log.lines(mark, outcome=None)}
    return report, samples, logged


def _answered(run: Run, model: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """The model's answered samples, each with the emulator's line for the same request."""
    _, samples, logged = run
    pairs = [(s, logged[s["server_request_id"]]) for s in samples if s["model"] == model]
    assert len(pairs) >= 20, len(pairs)  # the run sent what it was meant to
    assert all(s["outcome"] == "ok" for s, _ in pairs), [s["outcome"] for s, _ in pairs]
    return pairs


def test_reasoning_time_is_the_time_between_the_emulators_writes(run: Run) -> None:
    pairs = _answered(run, THINKER)
    errors = []
    for sample, line in pairs:
        first, answer = sample["first_token_us"], sample["first_answer_us"]
        # TTFT is the first delta of any kind: the reasoning, well before the answer.
        assert first == sample["first_reasoning_us"] < answer, sample
        assert sample["reasoning_tokens"] > 0 and line["reasoning_tokens"] > 0
        did_ms = line["first_answer_write_ms"] - line["first_write_ms"]
        # Not vacuous: the reasoning took longer than any tolerance below.
        assert did_ms > CLIENT_TAIL_MS, line
        assert sample["ttft_service_us"] / 1000 <= line["first_write_ms"] + CLIENT_TAIL_MS
        errors.append((answer - first) / 1000 - did_ms)
    # Each of loadgen's two stamps is the emulator's write plus the client's cost of reading
    # that frame (tests/emulator_log.py), so the error is the difference of two such costs:
    # within the median bound at the median and the tail bound in the tail (with 30 requests
    # the p99 is the worst). No lateness term: the writes compared are the ones made.
    assert percentile((abs(e) for e in errors), 50) <= CLIENT_MEDIAN_MS, errors
    assert percentile((abs(e) for e in errors), 99) <= CLIENT_TAIL_MS, errors
    # Not a constant that happened to match: the reasoning lengths, and so times, varied.
    assert len({line["reasoning_tokens"] for _, line in pairs}) > 1


def test_the_second_request_reads_the_prefix_and_starts_sooner(run: Run) -> None:
    pairs = _answered(run, CACHER)
    (first, first_line), (second, line) = pairs[0], pairs[1]
    assert first["cache_read_tokens"] == 0 < first["cache_write_tokens"]
    assert second["cache_read_tokens"] == first["cache_write_tokens"] == line["cache_read_tokens"]
    assert all(s["cache_read_tokens"] == ln["cache_read_tokens"] > 0 for s, ln in pairs[1:])
    # What the emulator took off the drawn (uncached) TTFT, by its log, is its documented
    # rule: prefill_ms_per_1k_tokens x the tokens read, never below the floor x the draw.
    profile = EMULATOR["profiles"][CACHER]
    saved_ms = line["ttft_drawn_ms"] - line["ttft_ms"]
    rule_ms = min(
        profile["prefill_ms_per_1k_tokens"] * line["cache_read_tokens"] / 1000,
        (1 - profile["cache_ttft_floor"]) * line["ttft_drawn_ms"],
    )
    assert saved_ms == pytest.approx(rule_ms, abs=2 * ROUNDING_MS)
    assert saved_ms > 2 * CLIENT_TAIL_MS  # not vacuous: more than the client's costs
    # loadgen's TTFT is the uncached plan less that saving, within what the client adds: at
    # least the cached plan (the emulator never writes early), at most its write + the tail.
    ttft_ms = second["ttft_service_us"] / 1000
    uncached_ms = line["queue_wait_ms"] + line["ttft_drawn_ms"]
    assert (
        uncached_ms - saved_ms - ROUNDING_MS <= ttft_ms <= line["first_write_ms"] + CLIENT_TAIL_MS
    )
    assert first_line["cache_read_tokens"] == 0 and "ttft_drawn_ms" in first_line
    assert first["ttft_service_us"] / 1000 >= first_line["queue_wait_ms"] + first_line["ttft_ms"]
    assert ttft_ms < first["ttft_service_us"] / 1000


def test_each_requests_cost_is_its_tokens_at_the_cache_prices(run: Run) -> None:
    report = run[0]
    book = PriceBook.builtin()
    for model in (THINKER, CACHER):
        pairs = _answered(run, model)
        resolved = book.resolve(model, REGION)
        assert resolved is not None
        expected_usd = 0.0
        for sample, _ in pairs:
            read, write = sample["cache_read_tokens"], sample["cache_write_tokens"]
            rates = resolved.prices.rates_for(sample["input_tokens"] + read + write)
            usd = (
                sample["input_tokens"] * rates.input
                + sample["output_tokens"] * rates.output
                + read * (rates.cache_read or 0.0)
                + write * (rates.cache_write or 0.0)  # the default 5-minute TTL
            ) / 1e6
            assert sample["cost_nusd"] == pytest.approx(usd * 1e9, abs=1), sample
            expected_usd += usd
        assert report["models"][model]["cost"]["total_usd"] == pytest.approx(expected_usd)
    # Not vacuous: the cache prices were used, reads cheaper than input.
    assert any(s["cache_read_tokens"] for s, _ in _answered(run, CACHER))


def test_the_tpm_accounting_leaves_cache_reads_out(run: Run) -> None:
    for sample, line in _answered(run, CACHER):
        counted = line["input_tokens"] + line["cache_write_tokens"]
        assert line["reserved_tokens"] == counted + SCENARIO["inference"]["max_tokens"]
        assert line["settled_tokens"] == counted + math.ceil(line["output_tokens"] * BURNDOWN)
        # The emulator's usage is what loadgen read: input leaves out what was cached.
        assert sample["input_tokens"] == line["input_tokens"]
