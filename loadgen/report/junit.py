"""A run's checks as JUnit XML (`--junit FILE`), the test report every CI system reads.

One <testsuite> per model, one <testcase> per threshold (`thresholds:`, which decide exit 99)
and per requirement (`requirements:`, the verdict), a <failure> with what was measured against
the limit; and a suite "run" whose cases say whether the run completed and whether its
figures can be trusted (loadgen/report/trust.py). The layout is the Apache Ant JUnit format
that Jenkins, GitLab, GitHub reporters and junitparser read: <testsuites> without attributes;
each <testsuite> with id, package, name, timestamp (UTC, to the second, no zone), hostname,
tests, failures, errors, skipped, time, then <properties>, the cases, <system-out> and
<system-err>. tests/e2e/test_summary_formats.py validates it against that format's schema.
"""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from loadgen.config.thresholds import format_value, kind_of_unit
from loadgen.core.atomic_file import write_text_atomically
from loadgen.report.schema import CheckResult, Report, TrustAssessment
from loadgen.report.trust import assess_trust, trust_line


@dataclass
class _Case:
    name: str
    classname: str
    failure: tuple[str, str, str] | None = None  # (type, message, text)


@dataclass
class _Suite:
    name: str
    cases: list[_Case] = field(default_factory=list)


def junit_xml(report: Report, hostname: str | None = None) -> str:
    """The report's thresholds, requirements and trust as a JUnit XML document."""
    run = report["run"]
    scenario = run["scenario"]
    trust = report.get("trust") or assess_trust(report)
    suites = [_run_suite(report, trust), *_model_suites(report)]
    root = ET.Element("testsuites")
    timestamp = _timestamp(run["started_at"])
    host = hostname or socket.gethostname() or "localhost"
    properties = {
        "run_id": run.get("run_id", ""),
        "scenario": scenario,
        "status": run["status"],
        "api": run["target"]["api"],
        "emulated": _bool(trust["emulated"]),
        "trustworthy": _bool(trust["trustworthy"]),
    }
    for index, suite in enumerate(suites):
        failures = sum(case.failure is not None for case in suite.cases)
        element = ET.SubElement(
            root,
            "testsuite",
            {
                "id": str(index),
                "package": f"loadgen.{scenario}",
                "name": suite.name,
                "timestamp": timestamp,
                "hostname": host,
                "tests": str(len(suite.cases)),
                "failures": str(failures),
                "errors": "0",
                "skipped": "0",
                "time": _seconds(run["wall_s"]),
            },
        )
        listed = ET.SubElement(element, "properties")
        for name, value in properties.items():
            ET.SubElement(listed, "property", {"name": name, "value": value})
        for case in suite.cases:
            item = ET.SubElement(
                element, "testcase", {"name": case.name, "classname": case.classname, "time": "0"}
            )
            if case.failure is not None:
                kind, message, text = case.failure
                ET.SubElement(item, "failure", {"type": kind, "message": message}).text = text
        ET.SubElement(element, "system-out").text = trust_line(trust)
        ET.SubElement(element, "system-err").text = ""
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _run_suite(report: Report, trust: TrustAssessment) -> _Suite:
    run = report["run"]
    classname = f"{run['scenario']}.run"
    status = _Case("completed", classname)
    if run["status"] != "completed":
        reason = run["status_reason"] or run["status"]
        status.failure = ("status", f"run {run['status']}: {reason}", reason)
    trusted = _Case("trustworthy", classname)
    if not trust["trustworthy"]:
        trusted.failure = ("trust", trust_line(trust), trust_line(trust))
    return _Suite("run", [status, trusted])


def _model_suites(report: Report) -> list[_Suite]:
    """A suite per model that has a threshold or a requirement, in the report's model order."""
    scenario = report["run"]["scenario"]
    checks: list[tuple[str, CheckResult]] = []
    thresholds = report.get("thresholds")
    for result in thresholds["results"] if thresholds else []:
        checks.append(("threshold", result))
    verdict = report.get("verdict")
    for model_verdict in verdict["models"].values() if verdict else []:
        checks += [("requirement", result) for result in model_verdict["requirements"]]
    suites = {model: _Suite(model) for model in report["models"]}
    for kind, result in checks:
        suite = suites.setdefault(result["model"], _Suite(result["model"]))
        suite.cases.append(_check_case(scenario, kind, result))
    return [suite for suite in suites.values() if suite.cases]


def _check_case(scenario: str, kind: str, result: CheckResult) -> _Case:
    case = _Case(result["check"], f"{scenario}.{result['model']}.{kind}")
    if result["passed"]:
        return case
    limit = f"{result['op']} {_value(result['limit'], result['unit'])}"
    if result["measured"] is None:
        message = f"{result['reason'] or 'no data for this metric'} (limit {limit})"
    else:
        message = f"measured {_value(result['measured'], result['unit'])}, limit {limit}"
    text = (
        f"{kind} {result['check']} on {result['model']}: {message}\n"
        f"metric {result['metric']}, statistic {result['stat'] or '-'}"
    )
    case.failure = (kind, message, text)
    return case


def _value(value: float, unit: str) -> str:
    kind = kind_of_unit(unit)
    # A plain number keeps its digits in a CI message (the console rounds it to 3 figures).
    return f"{value:g}" if kind == "number" else format_value(kind, value)


def _timestamp(started_at: str) -> str:
    """JUnit's timestamp: UTC to the second, without a zone (2026-11-26T20:40:00.123Z ->
    2026-11-26T20:40:00); now, for a report whose start cannot be read."""
    try:
        instant = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    except ValueError:
        instant = datetime.now(UTC)
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC)
    return instant.strftime("%Y-%m-%dT%H:%M:%S")


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def write_junit(report: Report, path: Path) -> Path:
    """The JUnit XML at `path`, written aside and renamed over (never half a file)."""
    write_text_atomically(path, junit_xml(report))
    return path
