"""`loadgen compare`, `merge`, `report` and `make nightly`, through the real CLI and emulator.

Three short runs of one model (20 req/s for 2 s: 40 requests, as compare needs): a base, a
rerun with other seeds (loadgen's and the emulator's), and one where the emulator's TTFT is
30 % higher.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from loadgen.core.sample import Sample
from loadgen.record.model_stats import ModelStats
from tests.helpers import REPO, loadgen, make

MODEL = "us.amazon.nova-lite-v1:0"
LATENCY_KEYS = ("ttft", "ttlt")


def scenario(path: Path, *, seed: int, ttft_ms: float) -> Path:
    data = {
        "name": "regress_check",
        "models": [MODEL],
        "prompt": {"template": "Summarise: {body}"},
        "dataset": {"path": str(REPO / "scenarios" / "data" / "emails.jsonl")},
        "inference": {"max_tokens": 50},
        "load": {"rate": 20, "arrival": "constant", "duration": "2s"},
        "seed": seed,
        "emulator": {
            "seed": seed,
            "profiles": {
                "amazon.nova-lite-v1:0": {
                    "ttft_ms": ttft_ms,
                    "ttft_jitter_ms": ttft_ms / 10,
                    "itl_ms": 40,
                    "itl_jitter_ms": 2,
                    "tokens_per_delta": 4,
                    "output_tokens": 12,
                }
            },
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    # One after another: a run starting up (imports, emulator) takes CPU that another run's
    # measurement would feel.
    root = tmp_path_factory.mktemp("regress")
    setups = {"base": (1, 200.0), "rerun": (2, 200.0), "slow": (1, 260.0)}
    for name, (seed, ttft_ms) in setups.items():
        path = scenario(root / name / "check.yaml", seed=seed, ttft_ms=ttft_ms)
        completed = loadgen("run", str(path), "--emulate", "--quiet", "--out", str(root / name))
        assert completed.returncode == 0, completed.stderr
    return {name: root / name for name in setups}


def test_a_rerun_with_other_seeds_is_not_flagged(runs: dict[str, Path], tmp_path: Path) -> None:
    completed = loadgen(
        "compare", str(runs["base"]), str(runs["rerun"]), "--json", str(tmp_path / "c.json")
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = json.loads((tmp_path / "c.json").read_text())
    assert result["regressions"] == 0
    verdicts = {row["metric"]: row["verdict"] for row in result["rows"]}
    assert verdicts["TTFT p50"] == "no significant change"
    assert "no significant regression" in completed.stdout


def test_ttft_30_percent_higher_is_a_regression(runs: dict[str, Path], tmp_path: Path) -> None:
    # The slowdown is the emulator's profile: runs against different profiles are refused
    # (exit 9, loadgen/compare/provenance.py) unless the difference is allowed.
    refused = loadgen("compare", str(runs["base"]), str(runs["slow"]))
    assert refused.returncode == 9, refused.stdout + refused.stderr
    assert f"emulator profile of {MODEL}" in refused.stderr
    assert "regression" not in refused.stdout
    allow = "--allow-different-targets"
    completed = loadgen(
        "compare", str(runs["base"]), str(runs["slow"]), "--json", str(tmp_path / "c.json"), allow
    )
    assert completed.returncode == 4, completed.stdout + completed.stderr
    rows = {row["metric"]: row for row in json.loads((tmp_path / "c.json").read_text())["rows"]}
    for metric in ("TTFT p50", "TTLT p50"):
        assert rows[metric]["verdict"] == "regression", rows[metric]
        low, _ = rows[metric]["ci"]
        assert low > 0
    assert 0.2 < rows["TTFT p50"]["change_relative"] < 0.4
    assert rows["error rate"]["verdict"] == "no significant change"
    assert "regression" in completed.stdout

    # The other way round it is an improvement: shown, but not a failure.
    reverse = loadgen("compare", str(runs["slow"] / "report.json"), str(runs["base"]), allow)
    assert reverse.returncode == 0, reverse.stdout + reverse.stderr
    assert "improvement" in reverse.stdout


def replayed(*run_dirs: Path) -> ModelStats:
    """A model's statistics built directly from every sample of the given runs."""
    stats = ModelStats()
    for run_dir in run_dirs:
        for line in (run_dir / "samples.jsonl").read_text().splitlines():
            sample = Sample.from_json_dict(json.loads(line))
            if not sample.warmup:
                stats.add(sample)
    return stats


# The fixture's runs are made one after another (so that no run's measurement feels another's
# start-up): merging them takes --allow-disjoint. tests/e2e/test_commands_errors.py merges runs
# made side by side without it.
DISJOINT = "--allow-disjoint"


def test_merge_is_exact(runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "merged"
    completed = loadgen(
        "merge", str(runs["base"]), str(runs["rerun"]), "-o", str(out), "-q", DISJOINT
    )
    assert completed.returncode == 0, completed.stderr
    merged = json.loads((out / "report.json").read_text())
    parts = [json.loads((runs[n] / "report.json").read_text()) for n in ("base", "rerun")]
    model = merged["models"][MODEL]

    truth = replayed(runs["base"], runs["rerun"])
    for name in ("ttft_service", "ttft_response", "ttlt_service", "ttlt_response"):
        kind, clock = name.split("_")
        assert model["latency_ms"][kind][clock] == truth.latency[name].summary(1000), name
    for name in ("itl", "tpot", "schedule_lag", "client_prep"):
        assert model["latency_ms"][name] == truth.latency[name].summary(1000), name
    assert model["tokens"]["output"]["p99"] == truth.tokens["output_tokens"].summary()["p99"]
    assert model["cost"]["per_sent_request"]["p50"] == pytest.approx(truth.cost.percentile_usd(50))
    assert model["cost"]["total_usd"] == pytest.approx(truth.cost.total_usd)

    assert model["requests"]["sent"] == sum(p["models"][MODEL]["requests"]["sent"] for p in parts)
    lines = (out / "samples.jsonl").read_text().splitlines()
    assert len(lines) == sum(
        len((runs[n] / "samples.jsonl").read_text().splitlines()) for n in ("base", "rerun")
    )
    sends = merged["timeseries"]["sends"]
    assert sum(sends) == sum(sum(p["timeseries"]["sends"]) for p in parts)
    assert merged["run"]["generator"]["target_rps"] == 40  # the two parts' 20 req/s
    assert merged["run"]["status"] == "completed"


def test_merge_refuses_other_scenarios_unless_forced(runs: dict[str, Path], tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    report = json.loads((runs["rerun"] / "report.json").read_text())
    report["run"]["scenario"] = "something_else"
    (other / "report.json").write_text(json.dumps(report))

    refused = loadgen("merge", str(runs["base"]), str(other), "-o", str(tmp_path / "m"))
    assert refused.returncode == 2
    assert "scenario 'something_else'" in refused.stderr
    assert "--force" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "m").exists()

    forced = loadgen(
        "merge", str(runs["base"]), str(other), "-o", str(tmp_path / "m"), "--force", DISJOINT
    )
    assert forced.returncode == 0, forced.stderr
    merged = json.loads((tmp_path / "m" / "report.json").read_text())
    assert not (tmp_path / "m" / "samples.jsonl").exists()  # one part had none
    assert any("had none" in note for note in merged["run"]["notes"])


def test_report_rerenders_a_saved_run_offline(runs: dict[str, Path]) -> None:
    completed = loadgen("report", str(runs["base"]))
    assert completed.returncode == 0, completed.stderr
    assert "regress_check — completed" in completed.stdout
    assert MODEL in completed.stdout
    saved = json.loads((runs["base"] / "report.json").read_text())
    whole = loadgen("report", str(runs["base"] / "report.json"), "--json", "--full")
    assert json.loads(whole.stdout) == saved
    # --json alone: the compact summary (docs/summary.md), one row per model, from the report.
    compact = json.loads(loadgen("report", str(runs["base"]), "--json").stdout)
    [row] = compact["models"]
    assert row["model"] == MODEL
    assert row["sent"] == saved["models"][MODEL]["requests"]["sent"]


@pytest.mark.parametrize("command", [["report"], ["compare", "."], ["merge", ".", "-o", "x"]])
def test_a_path_without_a_report_is_a_clear_error(command: list[str], tmp_path: Path) -> None:
    completed = loadgen(*command, str(tmp_path))
    assert completed.returncode == 2
    assert "no report.json there" in completed.stderr
    assert "Traceback" not in completed.stderr


def test_damaged_reports_and_unsafe_outputs_are_refused(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    report = json.loads((runs["base"] / "report.json").read_text())
    report["models"][MODEL]["hdr"]["ttft_service"] = "not a histogram"
    damaged = tmp_path / "damaged.json"
    damaged.write_text(json.dumps(report))
    for command in (
        ["compare", str(runs["base"]), str(damaged)],
        ["merge", str(runs["base"]), str(damaged), "-o", str(tmp_path / "m")],
    ):
        completed = loadgen(*command)
        assert completed.returncode == 2, completed.stderr
        assert f"models.{MODEL}: cannot read it back" in completed.stderr
        assert "Traceback" not in completed.stderr

    into_input = loadgen("merge", str(runs["base"]), str(runs["rerun"]), "-o", str(runs["base"]))
    assert into_input.returncode == 2
    assert "is one of the runs being merged" in into_input.stderr


def test_a_generator_limited_run_is_called_out(runs: dict[str, Path], tmp_path: Path) -> None:
    report = json.loads((runs["rerun"] / "report.json").read_text())
    report["run"]["generator"]["limited"] = True
    report["run"]["generator"]["limited_reasons"] = ["schedule lag p99 89.4 ms > 10.0 ms"]
    limited = tmp_path / "limited.json"
    limited.write_text(json.dumps(report))
    completed = loadgen("compare", str(runs["base"]), str(limited), "--json", str(tmp_path / "c"))
    notes = json.loads((tmp_path / "c").read_text())["notes"]
    assert any("generator-limited (schedule lag p99 89.4 ms" in note for note in notes)
    assert "generator-limited" in completed.stdout


def nightly_vars(scenario_path: Path, root: Path) -> list[str]:
    return [
        f"NIGHTLY_SCENARIOS={scenario_path}",
        "NIGHTLY_RPS=20",
        "NIGHTLY_DURATION=2s",
        f"NIGHTLY_DIR={root / 'nightly'}",
        f"BASELINE_DIR={root / 'baselines'}",
    ]


def test_make_baseline_then_nightly_passes(tmp_path: Path) -> None:
    path = scenario(tmp_path / "fast" / "check.yaml", seed=1, ttft_ms=200.0)
    missing = make("nightly", *nightly_vars(path, tmp_path))
    assert missing.returncode != 0
    assert "make baseline" in missing.stderr

    made = make("baseline", *nightly_vars(path, tmp_path))
    assert made.returncode == 0, made.stdout + made.stderr
    assert (tmp_path / "baselines" / "emulator" / "check" / "report.json").is_file()

    rerun = scenario(tmp_path / "rerun" / "check.yaml", seed=2, ttft_ms=200.0)
    nightly = make("nightly", *nightly_vars(rerun, tmp_path))
    assert nightly.returncode == 0, nightly.stdout + nightly.stderr
    assert (tmp_path / "nightly" / "check" / "report.json").is_file()
    compared = json.loads((tmp_path / "nightly" / "check" / "compare.json").read_text())
    assert compared["regressions"] == 0


def test_make_nightly_fails_on_a_regression(runs: dict[str, Path], tmp_path: Path) -> None:
    baseline = tmp_path / "baselines" / "emulator" / "check"
    baseline.mkdir(parents=True)
    shutil.copy(runs["base"] / "report.json", baseline / "report.json")
    slow = scenario(tmp_path / "slow" / "check.yaml", seed=1, ttft_ms=260.0)
    # The slowdown is the emulator profile's: a baseline of another profile is refused (9)...
    refused = make("nightly", *nightly_vars(slow, tmp_path))
    assert refused.returncode != 0
    assert f"emulator profile of {MODEL}" in refused.stderr
    assert "record it again: make baseline" in refused.stderr
    assert "Error 9" in refused.stderr
    # ... unless the comparison is asked for all the same: then it is a regression.
    allowed = "NIGHTLY_COMPARE_FLAGS=--allow-different-targets"
    nightly = make("nightly", *nightly_vars(slow, tmp_path), allowed)
    assert nightly.returncode != 0
    assert "significant regression (exit 4)" in nightly.stderr
    assert "Error 4" in nightly.stderr  # make's own status is 2; the recipe's is 4


def test_report_and_compare_write_html_from_saved_files(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    import shutil

    copy = tmp_path / "base"
    shutil.copytree(runs["base"], copy)
    (copy / "report.html").unlink(missing_ok=True)
    completed = loadgen("report", str(copy), "--html")
    assert completed.returncode == 0, completed.stderr
    page = (copy / "report.html").read_text()
    assert page.lstrip().lower().startswith("<!doctype html") and MODEL in page
    assert "<svg" in page  # the charts are drawn from the saved histograms

    comparison = tmp_path / "compare.html"
    completed = loadgen(
        "compare", str(runs["base"]), str(runs["slow"]), "--html", str(comparison), "--quiet",
        "--allow-different-targets",  # slow is another emulator profile (provenance.py)
    )  # fmt: skip
    assert completed.returncode == 4, completed.stderr
    assert MODEL in comparison.read_text()


def test_merge_judges_the_parts_thresholds_on_the_merged_figures(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    import shutil

    parts = []
    for name in ("base", "rerun"):
        part = tmp_path / name
        shutil.copytree(runs[name], part)
        report = json.loads((part / "report.json").read_text())
        # as a run of a scenario with these thresholds would have written them
        report["thresholds"] = {
            "passed": False,
            "failed": 1,
            "results": [
                {"check": "ttft.p50 < 10s", "model": MODEL, "passed": True},
                {"check": "ttft.p50 < 1ms", "model": MODEL, "passed": False},
            ],
        }
        (part / "report.json").write_text(json.dumps(report))
        parts.append(str(part))
    out = tmp_path / "merged"
    completed = loadgen("merge", *parts, "-o", str(out), "-q", DISJOINT)
    assert completed.returncode == 0, completed.stderr
    merged = json.loads((out / "report.json").read_text())
    section = merged["thresholds"]
    ttft_p50 = merged["models"][MODEL]["latency_ms"]["ttft"]["service"]["p50"]
    assert [(r["check"], r["passed"]) for r in section["results"]] == [
        ("ttft.p50 < 10s", True),
        ("ttft.p50 < 1ms", False),
    ]
    assert all(r["measured"] == ttft_p50 for r in section["results"])
    assert section["passed"] is False
