"""plan.html: one self-contained page, per model the monthly bill of each option against the peak
load (break-even points marked, the target drawn), the option table and the quota to request.
Built on report.html's page (its template and chart style)."""

from __future__ import annotations

import math

import matplotlib
from matplotlib.figure import Figure

from loadgen.planning.console import OPTION_LABELS, model_lines
from loadgen.planning.document import Plan
from loadgen.planning.schema import ModelPlan, OptionName
from loadgen.report.html import charts
from loadgen.report.html.page import anchor_of, page_environment, safe_svg
from loadgen.report.html.tables import fmt

# Each option's line: the on-demand ones solid, Provisioned Throughput dashed (its steps are
# whole model units), the Reserved tier dotted.
LINE_STYLES: dict[OptionName, tuple[str, str]] = {
    "on_demand_standard": (charts.PALETTE[0], "-"),
    "on_demand_priority": (charts.PALETTE[1], "-"),
    "on_demand_flex": (charts.PALETTE[2], "-"),
    "latency_optimized": (charts.PALETTE[3], "-"),
    "provisioned_none": (charts.PALETTE[4], "--"),
    "provisioned_one_month": (charts.PALETTE[5], "--"),
    "provisioned_six_months": (charts.PALETTE[6], "--"),
    "reserved": (charts.MUTED, ":"),
}

TEMPLATE = """{% extends "base.html.j2" %}
{% block title %}loadgen plan{% endblock %}
{% block body %}
<header>
  <h1>plan</h1>
  <div class="meta"><span>{{ target_text }}</span><span>prices of {{ region }}</span></div>
</header>
<nav>{% for model in models %}<a href="#{{ model.anchor }}">{{ model.name }}</a>{% endfor %}</nav>
<main>
{% for model in models %}
<section id="{{ model.anchor }}">
  <h2>{{ model.name }}</h2>
  {% for line in model.lines %}<div>{{ line }}</div>{% endfor %}
  <figure>{{ model.chart }}<figcaption>Monthly bill of each option against the peak load
    (requests/s, the deferrable share included). Dashed: Provisioned Throughput, a step per
    model unit; dotted: the Reserved tier. Dots: where an option stops costing more than on
    demand (standard); grey line: the target.</figcaption></figure>
  <table>
    <thead><tr><th>option</th><th class="num">USD / month</th>
      <th class="num">break-even req/s</th><th>why no price</th></tr></thead>
    <tbody>
    {% for row in model.rows %}
    <tr><td>{{ row.label }}
      {% if row.cheapest %}<span class="badge better">cheapest</span>{% endif %}</td>
      <td class="num">{{ row.monthly }}</td><td class="num">{{ row.break_even }}</td>
      <td>{{ row.how }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {% for note in model.notes %}<div class="muted">note: {{ note }}</div>{% endfor %}
</section>
{% endfor %}
</main>
{% endblock %}
"""


def render_plan(plan: Plan) -> str:
    body = plan.document["plan"]
    target = body["inputs"]["target"]
    peak = (
        f"{fmt(target['peak_rps'])} req/s"
        if target["peak_rps"] is not None
        else f"{fmt(target['peak_tpm'])} tokens/min"
    )
    target_text = (
        f"peak {peak} for {fmt(target['hours_per_day'])} h a day, "
        f"{fmt(target['days_per_month'])} days a month; "
        f"{fmt(target['deferrable_share'] * 100)} % can wait"
    )
    models = []
    for name, data in body["models"].items():
        peaks, bills = plan.curves[name]
        models.append(
            {
                "name": name,
                "anchor": anchor_of(name),
                "lines": model_lines(data, target["hours_per_day"], target["days_per_month"]),
                "chart": safe_svg(charts.to_svg(bills_figure(name, data, peaks, bills))),
                "rows": _rows(data),
                "notes": data["notes"],
            }
        )
    page = (
        page_environment()
        .from_string(TEMPLATE)
        .render(models=models, target_text=target_text, region=body["inputs"]["region"])
    )
    return str(page)


def _rows(data: ModelPlan) -> list[dict[str, object]]:
    rows = []
    for name, bill in data["options"].items():
        monthly = bill["monthly_usd"]
        rows.append(
            {
                "label": OPTION_LABELS[name],
                "monthly": "no price" if monthly is None else f"{monthly:,.2f}",
                "break_even": fmt(bill["break_even_rps"]),
                "how": bill["why"] or "",
                "cheapest": name == data["cheapest"],
            }
        )
    return rows


def bills_figure(
    model: str,
    data: ModelPlan,
    peaks: list[float],
    bills: dict[OptionName, list[float | None]],
) -> Figure:
    """Monthly bill against the peak, one line per priced option, break-evens and target."""
    with matplotlib.rc_context(charts.STYLE):  # type: ignore[arg-type]  # checked at run time
        figure = Figure(figsize=(charts.WIDTH_IN, 3.6))
        axes = figure.add_subplot(1, 1, 1)
        figure.subplots_adjust(left=0.1, right=0.74, bottom=0.14, top=0.9)
        axes.set_title(f"{charts.short_name(model)}: USD a month against the peak")
        axes.set_xlabel("peak requests/s")
        standard = bills.get("on_demand_standard", [])
        for name, values in bills.items():
            if all(value is None for value in values):
                continue
            color, style = LINE_STYLES[name]
            ys = [math.nan if value is None else value for value in values]
            axes.plot(peaks, ys, color=color, linestyle=style, label=OPTION_LABELS[name])
            even = data["options"][name]["break_even_rps"]
            if even is not None and standard:
                at = _interpolate(peaks, standard, even)
                if at is not None:
                    axes.plot([even], [at], "o", color=color, markersize=5)
        axes.axvline(data["load"]["peak_rps"], color=charts.MUTED, linewidth=1.0)
        axes.set_xlim(left=0)
        axes.set_ylim(bottom=0)
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return figure


def _interpolate(xs: list[float], ys: list[float | None], x: float) -> float | None:
    """The on-demand bill at `x` (a straight line through the origin: read off any point)."""
    for px, py in zip(xs, ys, strict=True):
        if py is not None and px > 0:
            return py / px * x
    return None
