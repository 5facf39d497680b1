"""A model section read back from a report builds the same section again, and merges add up."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from loadgen.core.sample import ErrorClass, Sample
from loadgen.record.model_stats import ModelStats
from loadgen.report.build import model_sections, model_stats_from_section

PRICED = {"prices": {"m": {"usd_per_1m_tokens": {"input": 1.0}}}, "project_rps": 2.0}


def samples(seed: int, count: int) -> list[Sample]:
    rng = random.Random(seed)
    made = []
    for index in range(count):
        error = rng.choice([None] * 8 + [ErrorClass.THROTTLED, ErrorClass.SERVER])
        start = index * 100_000
        ok = error is None
        made.append(
            Sample(
                request_id=index,
                model="m",
                row_id=f"r{index}",
                warmup=False,
                intended_us=start,
                dispatch_us=start + rng.randint(50, 500),
                send_us=start + rng.randint(600, 3000),
                first_token_us=start + rng.randint(80_000, 300_000) if ok else None,
                end_us=start + rng.randint(400_000, 900_000),
                itl_us=tuple(rng.randint(10_000, 30_000) for _ in range(5)) if ok else (),
                input_tokens=rng.randint(100, 900) if ok else None,
                output_tokens=rng.randint(20, 200) if ok else None,
                # Free (throttled), unknown, and priced requests, and one out of range.
                cost_usd=(rng.choice([rng.uniform(1e-5, 1e-3), None]) if ok else 0.0),
                error=error,
                error_code="ThrottlingException" if error is ErrorClass.THROTTLED else None,
            )
        )
    made.append(Sample(request_id=count, model="m", row_id="x", warmup=False, intended_us=0,
                       dispatch_us=0, error=ErrorClass.DROPPED))  # fmt: skip
    return made


def stats_of(*groups: list[Sample]) -> ModelStats:
    stats = ModelStats()
    for group in groups:
        for sample in group:
            stats.add(sample)
    stats.latency["ttft_service"].record(10**12)  # out of range: counted, not recorded
    return stats


def section(stats: ModelStats) -> dict[str, Any]:
    # Through JSON, as a report on disk would be.
    built = model_sections({"m": stats}, PRICED)["m"]
    result: dict[str, Any] = json.loads(json.dumps(built))
    return result


# The report keeps the measured window to the millisecond and the total cost to the
# nano-dollar: figures derived from them are rebuilt to about 1e-4 and compared apart.
DERIVED_COST = ("per_1k_sent_usd", "per_1k_answered_usd", "observed_per_hour", "projection")


def exact_part(built: dict[str, Any]) -> dict[str, Any]:
    rest = {key: value for key, value in built.items() if key != "throughput"}
    rest["cost"] = {k: v for k, v in built["cost"].items() if k not in DERIVED_COST}
    return rest


def test_a_section_read_back_builds_the_same_section() -> None:
    original = section(stats_of(samples(1, 300)))
    assert original["cost"]["total_usd"] > 0 and original["requests"]["dropped"] == 1
    rebuilt = section(model_stats_from_section(original))
    assert exact_part(rebuilt) == exact_part(original)
    assert rebuilt["throughput"]["window_s"] == original["throughput"]["window_s"]
    for key in ("requests_per_s", "output_tokens_per_s"):
        assert rebuilt["throughput"][key] == pytest.approx(original["throughput"][key], rel=1e-4)
    for key in ("per_1k_sent_usd", "per_1k_answered_usd", "observed_per_hour"):
        assert rebuilt["cost"][key] == pytest.approx(original["cost"][key], rel=1e-4)


def test_merged_sections_equal_the_section_of_all_samples() -> None:
    first, second = samples(1, 300), samples(2, 200)
    merged = model_stats_from_section(section(stats_of(first)))
    merged.merge(model_stats_from_section(section(stats_of(second))))
    together = section(stats_of(first, second))
    together["out_of_range"] += 1  # stats_of added one out-of-range value per part
    rebuilt = section(merged)
    for key in ("requests", "latency_ms", "tokens", "out_of_range"):
        assert rebuilt[key] == together[key], key
    for key in ("requests", "priced_requests", "unpriced_requests", "per_sent_request", "hdr"):
        assert rebuilt["cost"][key] == together["cost"][key], key
    # Each part's total is saved to the nano-dollar.
    assert rebuilt["cost"]["total_usd"] == pytest.approx(together["cost"]["total_usd"], abs=2e-9)
