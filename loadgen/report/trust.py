"""Whether a run's figures can be trusted: the line every summary opens with.

A run can look fine and be worthless: a generator that fell behind its schedule or dropped
requests at the in-flight cap did not offer the load the figures claim, so the latencies,
error rate and verdict describe a lighter load than was asked for. `assess_trust` reads the
finished report and says so, with a count for each reason; the console, report.html and the
compact summary all print it first (docs/report.md "trust").

Only what makes the figures describe another load than the one asked for is "untrustworthy"
(the verdict is then void, and `--fail-on-limited` exits 8): a limited generator, drops, a
run stopped before its load ended. Errors, throttles and the emulator are said beside it: the
figures hold, but a reader must know.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from loadgen.report.schema import (
    REPORTED_ERRORS,
    ModelSection,
    Report,
    RunSection,
    TrustAssessment,
    TrustKind,
    TrustReason,
    TrustSeverity,
)

# The words every summary uses for an emulated run (console, report.html, compact summary).
SYNTHETIC = "synthetic"
EMULATED_TEXT = (
    "built-in emulator: every latency, token count, cost and verdict is synthetic, "
    "not a measurement of Bedrock"
)

# A stop in these phases cut the load short; a stop while scoring, publishing or writing came
# after every request had ended, so the figures stand (only an output is missing).
_LOAD_PHASES = frozenset({"setup", "preflight", "load", "drain"})
_SEVERITY_ORDER: dict[TrustSeverity, int] = {"untrustworthy": 0, "warning": 1, "info": 2}
_DROP_REASON_MARK = "dropped at the in-flight cap"  # build.py's limited reason for drops


def assess_trust(report: Report) -> TrustAssessment:
    """The report's trust assessment; pure (reads `run` and `models` only)."""
    run = report["run"]
    models = list(report["models"].values())
    reasons = [
        *_generator_reasons(run),
        *_stop_reasons(run),
        *_error_reasons(models),
        *_emulated_reasons(run),
    ]
    reasons.sort(key=lambda reason: _SEVERITY_ORDER[reason["severity"]])
    return {
        "trustworthy": not any(r["severity"] == "untrustworthy" for r in reasons),
        "emulated": _run_emulated(run),
        "interrupted": run["status"] != "completed",
        "reasons": reasons,
    }


def is_emulated(report: Report) -> bool:
    """Whether the endpoint was loadgen's emulator (reports before schema 3: target.emulated)."""
    return _run_emulated(report["run"])


def _run_emulated(run: RunSection) -> bool:
    return run.get("emulated", run["target"].get("emulated", False))


def generator_kept_up(trust: TrustAssessment) -> bool:
    """False when the generator was limited or dropped requests: what `--fail-on-limited`
    fails on (a stop has its own exit code already)."""
    return not any(r["kind"] in ("generator_limited", "dropped") for r in trust["reasons"])


def trust_level(trust: TrustAssessment) -> Literal["bad", "warn", "good"]:
    """How loud every summary shows the verdict: bad (not trustworthy), warn (trustworthy with a
    warning), good; the console's colour and report.html's class."""
    if not trust["trustworthy"]:
        return "bad"
    if any(reason["severity"] == "warning" for reason in trust["reasons"]):
        return "warn"
    return "good"


def trust_line(trust: TrustAssessment) -> str:
    """One line of plain text: the verdict on the figures, then each reason with its count."""
    if trust["trustworthy"]:
        head = "figures trustworthy"
        if not trust["reasons"]:
            return f"{head}: generator kept up, nothing dropped, no errors"
    else:
        head = "NOT TRUSTWORTHY"
    return f"{head}: " + "; ".join(reason["message"] for reason in trust["reasons"])


def _reason(kind: TrustKind, severity: TrustSeverity, count: int, message: str) -> TrustReason:
    return {"kind": kind, "severity": severity, "count": count, "message": message}


def _generator_reasons(run: RunSection) -> list[TrustReason]:
    generator = run["generator"]
    reasons: list[TrustReason] = []
    limits = [r for r in generator["limited_reasons"] if _DROP_REASON_MARK not in r]
    if limits:
        reasons.append(
            _reason(
                "generator_limited",
                "untrustworthy",
                len(limits),
                "generator-limited (" + "; ".join(limits) + ")",
            )
        )
    dropped = generator["dropped"]
    if dropped:
        offered = generator["dispatched"] + dropped
        cap = run["load"].get("max_in_flight")
        reasons.append(
            _reason(
                "dropped",
                "untrustworthy",
                dropped,
                f"{dropped} of {offered} requests dropped"
                + ("" if cap is None else f" (in-flight cap {cap})"),
            )
        )
    return reasons


def _stop_reasons(run: RunSection) -> list[TrustReason]:
    status = run["status"]
    if status == "completed":
        return []
    stopped_in = run.get("stopped_in")
    # A report without stopped_in (written before loadgen kept it) may have stopped anywhere.
    cut_short = stopped_in is None or stopped_in in _LOAD_PHASES
    kinds: dict[str, TrustKind] = {"interrupted": "interrupted", "aborted": "aborted"}
    kind = kinds.get(status, "failed_output")
    where = f" in {stopped_in}" if stopped_in else ""
    why = f": {run['status_reason']}" if run.get("status_reason") else ""
    cancelled = run["generator"]["cancelled"]
    cut = f", {cancelled} requests cancelled in flight" if cancelled else ""
    return [
        _reason(
            kind,
            "untrustworthy" if cut_short else "warning",
            cancelled,
            f"{status}{where}{why}{cut}",
        )
    ]


def _error_reasons(models: Iterable[ModelSection]) -> list[TrustReason]:
    sent = errors = throttled = 0
    for section in models:
        requests = section["requests"]
        sent += requests["sent"]
        throttled += requests["errors"]["throttled"]
        errors += sum(requests["errors"][name] for name in REPORTED_ERRORS if name != "throttled")
    reasons: list[TrustReason] = []
    if errors:
        noun = "error" if errors == 1 else "errors"
        said = f"{errors} {noun} of {sent} sent ({_share(errors, sent)})"
        reasons.append(_reason("errors", "warning", errors, said))
    if throttled:
        reasons.append(
            _reason(
                "throttled",
                "warning",
                throttled,
                f"{throttled} throttled of {sent} sent ({_share(throttled, sent)})",
            )
        )
    return reasons


def _emulated_reasons(run: RunSection) -> list[TrustReason]:
    if not _run_emulated(run):
        return []
    return [
        _reason(
            "emulated",
            "info",
            run["generator"]["dispatched"],
            "emulated endpoint: every figure, cost and verdict is synthetic",
        )
    ]


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "-"
