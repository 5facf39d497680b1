"""compare.html: two runs side by side, with the rows `loadgen compare` prints (the same
metrics, intervals and verdicts: loadgen/compare/display.py builds them for both), and the
two runs' latency spectra and CDFs overlaid.

Colour says what the test found, never the sign alone: red a significant change for the
worse, green one for the better (latency down, throughput up), grey no significant change.
"""

from __future__ import annotations

from typing import Literal, TypedDict

from loadgen.report.html import charts as html_charts
from loadgen.report.html.page import OVERLAID, anchor_of, page_environment, run_facts, safe_svg
from loadgen.report.html.tables import fmt
from loadgen.report.schema import Report
from loadgen.report.trust import EMULATED_TEXT, assess_trust, trust_line

Tone = Literal["regression", "improvement", "no-change", "untested"]
# A row's tone → the class of its change and verdict cells.
TONE_CSS: dict[Tone, str] = {
    "regression": "worse",
    "improvement": "better",
    "no-change": "quiet",
    "untested": "quiet",
}


class ChangeRow(TypedDict):
    """One metric of one model compared, as people read it (every figure formatted)."""

    model: str
    metric: str
    base: str
    new: str
    change: str  # "+27.8 ms (+27.2 %)"; rates in percentage points: "+10.64 pp"
    evidence: str  # the interval of new - base, or the p-value of a rate's test
    verdict: str  # regression | improvement | no significant change | not tested (why)
    tone: Tone


class ComparisonView(TypedDict):
    """A whole comparison as people read it: what the console prints and the page shows."""

    base: str  # the runs' labels (their folders)
    new: str
    rows: list[ChangeRow]
    notes: list[str]
    method: str
    summary: str  # "1 significant regression", "no significant regression"
    regressions: int


def render_comparison(base: Report, new: Report, view: ComparisonView) -> str:
    """The HTML page comparing run `new` with run `base`, with the comparison's rows."""
    base_models, new_models = base.get("models", {}), new.get("models", {})
    models = []
    for name in [m for m in new_models if m in base_models]:
        old, now = base_models[name], new_models[name]
        panels = [
            (
                f"{title} service",
                [("base", old.get("hdr", {}).get(key)), ("new", now.get("hdr", {}).get(key))],
            )
            for title, key in OVERLAID
        ]
        models.append(
            {
                "name": name,
                "anchor": anchor_of(name),
                "rows": [_cells(row) for row in view["rows"] if row["model"] == name],
                "spectrum": safe_svg(html_charts.percentile_spectrum(panels)),
                "cdfs": safe_svg(html_charts.cdfs(panels)),
            }
        )
    facts = {"base": run_facts(base["run"]), "new": run_facts(new["run"])}
    # Each run's trust line first: a change measured on a run that cannot be trusted (drops,
    # a generator behind) says nothing about the endpoint.
    trust = {side: assess_trust(report) for side, report in (("base", base), ("new", new))}
    page = (
        page_environment()
        .get_template("comparison.html.j2")
        .render(
            base=base["run"],
            new=new["run"],
            view=view,
            models=models,
            trust=[
                (side, trust_line(assessed), "good" if assessed["trustworthy"] else "bad")
                for side, assessed in trust.items()
            ],
            emulated=EMULATED_TEXT if any(t["emulated"] for t in trust.values()) else None,
            facts=[
                [("", key, "wrap"), *((side, fmt(facts[side][key]), "wrap") for side in facts)]
                for key in facts["base"]
            ],
            only_base=[m for m in base_models if m not in new_models],
            only_new=[m for m in new_models if m not in base_models],
        )
    )
    return str(page)


def _cells(row: ChangeRow) -> list[tuple[str, str, str]]:
    """(column label, text, css classes) of one row's cells."""
    tone = TONE_CSS[row["tone"]]
    return [
        ("metric", row["metric"], ""),
        ("base", row["base"], "num"),
        ("new", row["new"], "num"),
        ("change", row["change"], f"num {tone}"),
        ("interval / p", row["evidence"], f"num {tone}"),
        ("verdict", row["verdict"], f"wrap {tone}"),
    ]
