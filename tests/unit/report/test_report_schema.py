"""The report's JSON Schemas: generated from the types, shipped in docs/, and a real run's
report.json and samples.jsonl (and a merge of them) valid against them, unknown keys refused."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from pydantic import ValidationError as PydanticValidationError
from rich.console import Console

from loadgen.config.scenario import scenario_from_dict
from loadgen.core.sample import ErrorClass, ErrorName
from loadgen.record.model_stats import LATENCY_METRICS, TOKEN_METRICS
from loadgen.report.merge import merge_runs
from loadgen.report.saved_run import load_run
from loadgen.report.schema import (
    REPORT_SCHEMA_FILE,
    REPORTED_ERRORS,
    SAMPLE_SCHEMA_FILE,
    SCHEMAS,
    HdrName,
    json_schema,
    sample_json_schema,
    schema_text,
    validate_report,
    validate_sample_line,
)
from loadgen.run import RunOptions, run

DOCS = Path(__file__).resolve().parents[3] / "docs"
FAST = {"ttft_ms": 10, "itl_ms": 2, "output_tokens": 8, "tokens_per_delta": 1}
ROWS = [
    {
        "id": f"r{i}",
        "body": "Omar, the March close is done: opex came in at $1.92M. " * (2 + i),
        "key_facts": {"people": ["Omar"], "amounts": ["$1.92M"]},
        "reference_summary": "The March close is done: opex $1.92M.",
    }
    for i in range(5)
]


@pytest.mark.parametrize("name", sorted(SCHEMAS))
def test_the_shipped_schemas_are_the_ones_the_types_generate(name: str) -> None:
    shipped = (DOCS / name).read_text(encoding="utf-8")
    assert shipped == schema_text(SCHEMAS[name]()), (
        f"docs/{name} is out of date: python -m loadgen.report.schema docs/"
    )


def test_the_literal_names_match_what_the_code_writes() -> None:
    assert set(get_args(ErrorName)) == {c.value for c in ErrorClass}
    # Dropped and cancelled requests are counted apart (requests.dropped, requests.cancelled).
    apart = {ErrorClass.DROPPED.value, ErrorClass.CANCELLED.value}
    assert set(REPORTED_ERRORS) == {c.value for c in ErrorClass} - apart
    assert set(get_args(HdrName)) == {*LATENCY_METRICS, *TOKEN_METRICS}


@pytest.fixture(scope="module")
def aws_free_env() -> Iterator[None]:
    """Fake credentials and no AWS configuration: nothing is read from the machine."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {
            "AWS_ACCESS_KEY_ID": "AKIAFAKEFAKEFAKEFAKE",
            "AWS_SECRET_ACCESS_KEY": "fake-secret-never-leaks-0123456789abcdefgh",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": "/nonexistent/aws-config",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
            "AWS_EC2_METADATA_DISABLED": "true",
        }.items():
            patch.setenv(key, value)
        patch.delenv("AWS_PROFILE", raising=False)
        yield


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, aws_free_env: None) -> Path:
    """A short run against the built-in emulator with every optional section filled in:
    a priced and an unpriced model, quality, thresholds, requirements (the verdict), the
    streaming comparison, and CloudWatch (a dry run, with a dashboard and alarms)."""
    base = tmp_path_factory.mktemp("schema-run")
    scenario = scenario_from_dict(
        {
            "name": "schema",
            "models": ["fast-model", "other-model"],
            "prompt": {"template": "Summarise:\n{body}\n\nSummary: two sentences.\n"},
            "dataset": {"rows": ROWS},
            "inference": {"max_tokens": 50},
            "load": {"rate": 20, "arrival": "constant", "requests": 12},
            "target": {"region": "us-east-1"},
            "cost": {"allow_unpriced": True, "project_rps": 10},
            "pricing": {"fast-model": {"input": 0.5, "output": 1.5}},
            "emulator": {"profiles": {"fast-model": FAST, "other-model": FAST}},
            "thresholds": ["ttft.p95 < 10s", "error_rate < 50%"],
            "requirements": ["ttft_p95 <= 1s", "quality >= 0.1", "cost_per_1k <= 2.00"],
            "cloudwatch": {"enabled": True, "interval": "1s", "dashboard": True, "alarms": True},
            "compare_streaming": True,
            "seed": 3,
        },
        base_dir=base,
    )
    out = base / "out"
    options = RunOptions(
        out_dir=out,
        emulate=True,
        quiet=True,
        html=False,
        console=Console(quiet=True),
        cloudwatch_dry_run=True,
        keep_text=True,  # the optional response_text, to be checked too
    )
    run(scenario, options)
    return out


def _report(folder: Path) -> Any:
    return json.loads((folder / "report.json").read_text(encoding="utf-8"))


def _errors(schema: dict[str, Any], instance: Any) -> list[str]:
    validator = Draft202012Validator(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(instance)
    ][:10]


def test_a_real_runs_report_is_valid(run_dir: Path) -> None:
    report = _report(run_dir)
    # Not vacuous: every optional section is there to be checked.
    assert report["thresholds"] and report["verdict"]["requirements"]
    assert report["streaming_comparison"]["compared_models"]
    assert report["run"]["cloudwatch"]["dashboard"] and report["run"]["cloudwatch"]["alarms"]
    assert report["run"]["emulator"] is not None
    priced, unpriced = report["models"]["fast-model"], report["models"]["other-model"]
    assert priced["cost"]["projection"]["at_project_rps"] and unpriced["cost"] is None
    assert priced["quality"]["scored"] > 0 and priced["quality"]["worst"]
    assert _errors(json_schema(), report) == []
    assert validate_report(report) == report


def test_a_real_runs_samples_are_valid(run_dir: Path) -> None:
    lines = (run_dir / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    samples = [json.loads(line) for line in lines]
    assert len(samples) == 2 * 12  # both APIs of compare_streaming
    assert any(s["response_text"] for s in samples)  # --keep-text writes the text
    assert {s["run_id"] for s in samples} == {_report(run_dir)["run"]["run_id"]}
    schema = sample_json_schema()
    for sample in samples:
        assert _errors(schema, sample) == []
        assert validate_sample_line(sample) == sample


def test_a_merged_report_is_valid(run_dir: Path, tmp_path: Path) -> None:
    # A second part as a second process of the same load would write it: at the same time, with
    # another seed (merge refuses one run given twice). Its samples.jsonl is left out: an
    # identical one would mark it as the same run.
    second = tmp_path / "second"
    second.mkdir()
    part = _report(run_dir)
    part["run"]["seed"] += 1
    (second / "report.json").write_text(json.dumps(part))
    merged = merge_runs([load_run(run_dir), load_run(second)], tmp_path / "merged")
    written, part = _report(tmp_path / "merged"), _report(run_dir)
    # Two parts that each published to CloudWatch: their counts add up.
    merged_count, part_count = (r["run"]["cloudwatch"]["published_data"] for r in (written, part))
    assert merged_count == 2 * part_count
    assert _errors(json_schema(), written) == []
    assert validate_report(written) == merged


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(lambda r: r["run"].update(stauts="completed"), id="unknown key"),
        pytest.param(lambda r: r["run"].pop("status"), id="missing key"),
        pytest.param(lambda r: r["run"].update(status="finished"), id="not in the enum"),
        pytest.param(lambda r: r["models"]["fast-model"]["requests"].update(sent="12"), id="type"),
        pytest.param(lambda r: r["models"]["fast-model"]["hdr"].update(ttft="x"), id="hdr name"),
    ],
)
def test_a_report_that_breaks_the_contract_is_refused(run_dir: Path, spoil: Any) -> None:
    report = copy.deepcopy(_report(run_dir))
    spoil(report)
    assert _errors(json_schema(), report)
    with pytest.raises(ValidationError):
        Draft202012Validator(json_schema()).validate(report)
    with pytest.raises(PydanticValidationError):
        validate_report(report)


def test_the_schema_files_are_named_in_docs() -> None:
    text = (DOCS / "report.md").read_text(encoding="utf-8")
    assert REPORT_SCHEMA_FILE in text and SAMPLE_SCHEMA_FILE in text
