"""A saved run's tables: one column type per field, the values the report holds."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

import loadgen.notebook
from loadgen.notebook import load
from tests.unit.notebook.conftest import QUALITY, REQUIREMENTS, saved_report


def test_load_reads_the_saved_run_from_its_folder_or_its_report(saved_run: Path) -> None:
    result = load(saved_run)
    assert result.models == ["nova-lite", "nova-pro", "claude-haiku"]
    assert result.status == "completed"
    assert result.exit_code is None  # the report does not record it
    assert load(saved_run / "report.json").report == result.report


def test_load_of_a_folder_without_a_report_says_what_to_give(tmp_path: Path) -> None:
    from loadgen.core.errors import ConfigError

    with pytest.raises(ConfigError, match=r"no report\.json there"):
        load(tmp_path)


def test_stats_has_one_row_per_model_with_the_reports_figures(saved_run: Path) -> None:
    result = load(saved_run)
    stats = result.stats()
    assert list(stats.index) == result.models and stats.index.name == "model"
    for model, section in result.report["models"].items():
        assert stats.loc[model, "sent"] == section["requests"]["sent"]
        assert stats.loc[model, "ttft_p95_ms"] == section["latency_ms"]["ttft"]["service"]["p95"]
        assert stats.loc[model, "quality_mean"] == QUALITY[model]
    assert stats["sent"].dtype == "Int64"
    assert stats["errors_throttled"].dtype == "Int64"
    assert stats["ttft_p95_ms"].dtype == "float64"
    assert stats["error_rate"].dtype == "float64"
    # Unpriced (the factories' models have no price): a figure not measured, not an object.
    assert stats["cost_usd"].dtype == "float64" and stats["cost_usd"].isna().all()


def test_samples_has_one_row_per_measured_request_typed_as_declared(saved_run: Path) -> None:
    lines = (saved_run / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    samples = load(saved_run).samples()
    everything = load(saved_run).samples(warmup=True)
    assert len(everything) == len(lines)
    assert len(samples) == len(lines) - int(everything["warmup"].sum())
    assert not samples["warmup"].any()
    assert samples["request_id"].dtype == "Int64"
    assert samples["warmup"].dtype == "boolean"
    assert samples["model"].dtype == "string"
    # A failed request never got a first token: <NA>, and the others stay exact integers.
    first = samples["first_token_us"]
    assert first.dtype == "Int64" and first.isna().any() and first.notna().any()
    assert isinstance(samples["itl_us"].dropna().iloc[0], list)


def test_tradeoff_marks_the_pareto_front_the_verdict_found(saved_run: Path) -> None:
    result = load(saved_run)
    tradeoff = result.tradeoff()
    front = result.report["verdict"]["pareto"]["front"]
    assert tradeoff["pareto"].dtype == "boolean"
    assert list(tradeoff.index[tradeoff["pareto"]]) == front
    assert tradeoff.loc["nova-pro", "quality_mean"] == QUALITY["nova-pro"]
    assert tradeoff["met"].dtype == "Int64" and tradeoff["meets_all"].dtype == "boolean"


def test_requirements_has_a_row_per_model_and_requirement(saved_run: Path) -> None:
    result = load(saved_run)
    table = result.requirements()
    assert len(table) == len(result.models) * len(REQUIREMENTS)
    quality = table[table["requirement"] == "quality >= 0.7"].set_index("model")
    assert dict(quality["met"]) == {model: score >= 0.7 for model, score in QUALITY.items()}
    assert table["met"].dtype == "boolean" and table["measured"].dtype == "float64"
    assert "meets every requirement" in result.verdict()


def test_a_run_compared_with_itself_shows_no_regression(saved_run: Path) -> None:
    result = load(saved_run)
    comparison = result.compare(load(saved_run))
    assert set(comparison["model"]) == set(result.models)
    assert "regression" not in set(comparison["verdict"])
    assert comparison["change"].dropna().eq(0).all()
    assert comparison["base"].dtype == "float64"
    assert isinstance(comparison.attrs["notes"], list)


def test_without_pandas_a_table_says_how_to_install_it(
    saved_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = load(saved_run)
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` fails as if missing
    monkeypatch.delitem(sys.modules, "loadgen.notebook.frames")
    monkeypatch.delattr(loadgen.notebook, "frames")
    with pytest.raises(ImportError, match=r"pip install 'loadgen\[notebook\]'"):
        result.stats()


def test_a_report_of_another_shape_is_a_config_error_not_a_key_error(saved_run: Path) -> None:
    from loadgen.core.errors import ConfigError

    report = saved_report()
    del report["models"]["nova-lite"]["latency_ms"]
    result = loadgen.notebook.Result(report=report, out_dir=saved_run)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="not a report this loadgen can read"):
        result.stats()


def test_a_dataframe_is_what_comes_back(saved_run: Path) -> None:
    result = load(saved_run)
    for table in (result.stats(), result.tradeoff(), result.requirements(), result.samples()):
        assert isinstance(table, pd.DataFrame) and len(table) > 0
