"""A real run's files as the tools around loadgen read them: samples.jsonl in DuckDB, the
summary CSV in pandas and DuckDB with the types docs/summary.md gives, the JUnit XML against
the Ant format's schema and in junitparser, and `loadgen report --json` compact."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

import pytest
import yaml
from rich.console import Console

from loadgen.core.sample import SampleLine
from loadgen.report.summary import COLUMNS, summary_rows
from loadgen.run import RunOptions, run_async
from loadgen.sinks.jsonl import REASONING_FIELDS, SESSION_FIELDS, TOOL_FIELDS
from tests.conftest import ScenarioFactory
from tests.helpers import REPO, loadgen

duckdb = pytest.importorskip("duckdb")
pd = pytest.importorskip("pandas")
xmlschema = pytest.importorskip("xmlschema")
junitparser = pytest.importorskip("junitparser")

JUNIT_SCHEMA = REPO / "tests" / "data" / "junit-ant.xsd"
# One threshold that holds and one that cannot (the emulator's TTFT is hundreds of ms).
THRESHOLDS = ["error_rate < 50%", "ttft.p50 < 1ms"]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The email study on the emulator for a few seconds, with thresholds, every format asked."""
    folder = tmp_path_factory.mktemp("formats")
    scenario = yaml.safe_load((REPO / "scenarios/email_summary.yaml").read_text())
    scenario["dataset"]["path"] = str(REPO / "scenarios/data/emails.jsonl")
    scenario["thresholds"] = THRESHOLDS
    (folder / "scenario.yaml").write_text(yaml.safe_dump(scenario))
    paths = {
        "out": folder / "out",
        "csv": folder / "summary.csv",
        "junit": folder / "junit.xml",
    }
    completed = loadgen(
        "run",
        str(folder / "scenario.yaml"),
        "--emulate",
        "--rps",
        "6",
        "--duration",
        "3s",
        "--out",
        str(paths["out"]),
        "--no-html",
        "-q",
        "--summary",
        "csv",
        str(paths["csv"]),
        "--junit",
        str(paths["junit"]),
    )
    assert completed.returncode == 99, completed.stderr  # the failing threshold
    return paths


def _report(run: dict[str, Path]) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((run["out"] / "report.json").read_text())
    return report


def _duckdb_type(hint: Any) -> str:
    """The DuckDB type read_json_auto gives a SampleLine field of this Python type."""
    members = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
    (kind,) = [member for member in members if member is not type(None)]
    if kind is bool:
        return "BOOLEAN"
    if kind is int:
        return "BIGINT"
    if kind is str or get_origin(kind) is Literal:
        return "VARCHAR"
    assert get_origin(kind) is list and get_args(kind) == (int,), kind
    return "BIGINT[]"


def test_samples_load_in_duckdb_with_one_type_per_field(run: dict[str, Path]) -> None:
    samples = str(run["out"] / "samples.jsonl")
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_json_auto('{samples}')").fetchall()
    types = {name: kind for name, kind, *_ in described}
    untyped = {n: t for n, t in types.items() if "NULL" in t or "HUGEINT" in t or "JSON" in t}
    assert not untyped, (untyped, (run["out"] / "samples.jsonl").read_text()[:3000])
    # Every field as SampleLine declares it (the run id is a UUID, which DuckDB knows).
    declared = get_type_hints(SampleLine)
    expected = {name: _duckdb_type(declared[name]) for name in types}
    expected["run_id"] = "UUID"
    expected["server_request_id"] = "UUID"  # the emulator's ids are UUIDs, as Bedrock's are
    assert types == expected
    # A streaming Bedrock run leaves out only what its API cannot measure, what its plain
    # requests cannot produce (reasoning, tools, conversations), and no text.
    unused = {*REASONING_FIELDS, *TOOL_FIELDS, *SESSION_FIELDS}
    assert set(declared) - set(types) == {"server_first_byte_us", "response_text", *unused}
    report = _report(run)
    ids = duckdb.sql(f"SELECT DISTINCT run_id::VARCHAR FROM read_json_auto('{samples}')")
    assert ids.fetchall() == [(report["run"]["run_id"],)]
    # Costs in whole nano-dollars add up to the report's total (within half of one each).
    for model, section in report["models"].items():
        ((total, count),) = duckdb.sql(
            f"SELECT sum(cost_nusd), count(*) FROM read_json_auto('{samples}') "
            f"WHERE model = '{model}' AND NOT warmup"
        ).fetchall()
        assert total / 1e9 == pytest.approx(section["cost"]["total_usd"], abs=count * 5e-10)


def _documented_columns() -> dict[str, str]:
    """The column table of docs/summary.md: name -> type."""
    text = (REPO / "docs" / "summary.md").read_text()
    return dict(re.findall(r"^\| `(\w+)` \| (string|integer|number|boolean) \|", text, re.M))


# pandas reads text as its string type from 3.0 on, as object before.
PANDAS_TYPES = {"integer": "int64", "number": "float64", "boolean": "bool"}
DUCKDB_TYPES = {"string": "VARCHAR", "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN"}


def test_the_summary_csv_loads_in_pandas_and_duckdb_with_the_documented_types(
    run: dict[str, Path],
) -> None:
    documented = _documented_columns()
    assert documented == {column.name: column.kind for column in COLUMNS}
    frame = pd.read_csv(run["csv"])
    assert list(frame.columns) == list(documented)
    for name, kind in documented.items():
        if kind == "string":
            assert pd.api.types.is_string_dtype(frame[name]), name
        else:
            assert str(frame[name].dtype) == PANDAS_TYPES[kind], name
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_csv_auto('{run['csv']}')").fetchall()
    types = {name: kind for name, kind, *_ in described}
    assert types == {name: DUCKDB_TYPES[kind] for name, kind in documented.items()}
    # The figures are the report's, one row per model.
    report = _report(run)
    read = frame.astype(object).where(frame.notna(), None).to_dict("records")
    assert read == summary_rows(report)
    assert list(frame["model"]) == list(report["models"])


def test_stats_csv_beside_the_report_is_the_summary_csv(run: dict[str, Path]) -> None:
    assert (run["out"] / "stats.csv").read_text() == run["csv"].read_text()


def test_the_junit_xml_is_valid_and_reads_in_a_junit_parser(run: dict[str, Path]) -> None:
    xmlschema.XMLSchema(JUNIT_SCHEMA).validate(str(run["junit"]))
    report = _report(run)
    parsed = junitparser.JUnitXml.fromfile(str(run["junit"]))
    suites = {suite.name: suite for suite in parsed}
    assert set(suites) == {"run", *report["models"]}
    for model in report["models"]:
        cases = {case.name: case for case in suites[model]}
        requirements = report["verdict"]["models"][model]["requirements"]
        results = [r for r in report["thresholds"]["results"] if r["model"] == model]
        assert set(cases) == {r["check"] for r in [*results, *requirements]}
        for result in [*results, *requirements]:
            assert cases[result["check"]].is_passed == result["passed"], result
        assert suites[model].failures == sum(not r["passed"] for r in [*results, *requirements])
    failing = next(
        case for case in suites[next(iter(report["models"]))] if case.name == THRESHOLDS[1]
    )
    (failure,) = failing.result
    assert "measured" in failure.message and "< 1.0 ms" in failure.message


def test_report_json_is_compact_by_default_and_whole_with_full(run: dict[str, Path]) -> None:
    compact = loadgen("report", str(run["out"]), "--json")
    assert compact.returncode == 0, compact.stderr
    whole = (run["out"] / "report.json").read_text()
    assert len(compact.stdout) < len(whole) / 4
    summary = json.loads(compact.stdout)
    assert "hdr" not in compact.stdout and "HISTF" not in compact.stdout
    assert [row["model"] for row in summary["models"]] == list(json.loads(whole)["models"])
    assert summary["thresholds"]["failed"] == len(summary["models"])  # ttft.p50 < 1ms, each
    full = loadgen("report", str(run["out"]), "--json", "--full")
    assert json.loads(full.stdout) == json.loads(whole)


def test_report_writes_the_same_files_for_a_saved_run(run: dict[str, Path], tmp_path: Path) -> None:
    completed = loadgen(
        "report",
        str(run["out"]),
        "--summary",
        "csv",
        str(tmp_path / "again.csv"),
        "--junit",
        str(tmp_path / "again.xml"),
    )
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "again.csv").read_text() == run["csv"].read_text()
    assert (tmp_path / "again.xml").read_text() == run["junit"].read_text()


async def test_keep_text_writes_each_response_text(
    make_scenario: ScenarioFactory, tmp_path: Path
) -> None:
    scenario = make_scenario(load={"rate": 20, "requests": 4})
    options = RunOptions(
        out_dir=tmp_path, emulate=True, quiet=True, console=Console(quiet=True), keep_text=True
    )
    result = await run_async(scenario, options)
    assert result.report["models"]["fixed-model"]["requests"]["ok"] == 4
    lines = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert len(lines) == 4
    # The emulator's answer: as many words as output tokens, one word a delta.
    assert all(len(line["response_text"].split()) == line["output_tokens"] for line in lines)


def test_an_interrupted_run_still_writes_its_stats_and_summary(tmp_path: Path) -> None:
    # The study's quickest model alone: what is in flight at the signal drains in about 1.5 s.
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "loadgen.cli", "run", "scenarios/email_summary.yaml"),
            *("--model", "us.amazon.nova-lite-v1:0"),
            *("--emulate", "--rps", "8", "--duration", "60s", "--no-html", "-q"),
            *("--out", str(tmp_path / "out"), "--summary", "json", str(tmp_path / "s.json")),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    samples = tmp_path / "out" / "samples.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (
        samples.exists() and len(samples.read_text().splitlines()) >= 3
    ):
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["run"]["status"] == "interrupted"
    stats = pd.read_csv(tmp_path / "out" / "stats.csv")
    assert set(stats["status"]) == {"interrupted"}
    assert list(stats["sent"]) == [m["requests"]["sent"] for m in report["models"].values()]
    summary = json.loads((tmp_path / "s.json").read_text())
    assert summary["run"]["status"] == "interrupted" and not summary["trust"]["trustworthy"]


def test_the_workers_of_a_run_share_its_id(tmp_path: Path) -> None:
    # The study's quickest model alone: the run waits for its answers, not for the slowest's.
    completed = loadgen(
        "run",
        "scenarios/email_summary.yaml",
        "--model",
        "us.amazon.nova-lite-v1:0",
        "--emulate",
        "--requests",
        "12",
        "--rps",
        "8",
        "--workers",
        "2",
        "--no-quality",
        "--no-html",
        "-q",
        "--out",
        str(tmp_path),
    )
    assert completed.returncode == 0, completed.stderr
    run_id = json.loads((tmp_path / "report.json").read_text())["run"]["run_id"]
    lines = [json.loads(line) for line in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert len(lines) == 12 and {line["run_id"] for line in lines} == {run_id}
    for worker in ("0", "1"):
        part = json.loads((tmp_path / "workers" / worker / "report.json").read_text())
        assert part["run"]["run_id"] == run_id
    assert set(pd.read_csv(tmp_path / "stats.csv")["run_id"]) == {run_id}
