"""What report.html opens with: the trust line and, for an emulated run, the banner; and the
"synthetic" mark beside every cost and verdict of an emulated run."""

from __future__ import annotations

from typing import Any

from loadgen.report.schema import Report
from loadgen.report.trust import EMULATED_TEXT, SYNTHETIC, assess_trust, trust_level, trust_line

__all__ = ["EMULATED_TEXT", "SYNTHETIC", "synthetic", "trust_banner"]


def trust_banner(report: Report) -> dict[str, Any]:
    """The trust assessment as the page shows it (assessed here for a report saved before
    schema_version 3, which has none): its class (bad, warn, good), its line, its reasons."""
    trust = report.get("trust") or assess_trust(report)
    return {
        **trust,
        "css": trust_level(trust),
        "line": trust_line(trust),
        "emulated_text": EMULATED_TEXT,
    }


def synthetic(label: str, marked: bool) -> str:
    """`label (synthetic)` when marked: a figure an emulated run made up."""
    return f"{label} ({SYNTHETIC})" if marked else label
