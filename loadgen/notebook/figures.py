"""A run's charts as matplotlib Figures, to show inline in a notebook.

The report's own charts (loadgen/report/html/charts.py draws them for report.html) plus the
trade-off the verdict weighs, drawn here. Each is a Figure, not a picture of one: a notebook
shows it inline, and it can be restyled or saved (`figure.savefig("ttft.png")`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from loadgen.report.html import charts
from loadgen.report.schema import HdrName, ModelSection, ParetoAxis, Report
from loadgen.report.verdict import PARETO_AXES, pareto_front

# The charts of the whole run, by name.
RUN_FIGURES = ("tradeoff", "latency_cdf", "throughput", "errors", "schedule_lag")
# The charts drawn once per model: `name/model` in Result.charts().
MODEL_FIGURES = ("latency_spectrum", "latency_over_time")

AXIS_LABELS: dict[ParetoAxis, str] = {
    "cost_per_1k": "USD per 1,000 answered requests",
    "ttlt_p95_ms": "TTLT p95, ms (service time)",
    "quality_mean": "mean quality score",
}


def run_figure(report: Report, name: str) -> Figure:
    """One chart of the whole run, by its name in RUN_FIGURES (KeyError for another)."""
    draw: dict[str, Callable[[Report], Figure]] = {
        "tradeoff": tradeoff,
        "latency_cdf": latency_cdf,
        "throughput": lambda r: charts.throughput_figure(_series(r), _target_rps(r)),
        "errors": lambda r: charts.error_timeline_figure(_series(r)),
        "schedule_lag": lambda r: charts.schedule_lag_figure(_series(r), _lag(r)),
    }
    return shown_inline(draw[name](report))


def model_figure(report: Report, name: str, model: str) -> Figure:
    """One chart of one model of the report, by its name in MODEL_FIGURES."""
    if name == "latency_over_time":
        figure = charts.latency_over_time_figure(_series(report), model)
    else:
        hdr = report["models"][model]["hdr"]
        panels = [
            (
                "TTFT",
                [("service", hdr.get("ttft_service")), ("response", hdr.get("ttft_response"))],
            ),
            (
                "TTLT",
                [("service", hdr.get("ttlt_service")), ("response", hdr.get("ttlt_response"))],
            ),
            ("ITL (every gap)", [("ITL", hdr.get("itl"))]),
        ]
        figure = charts.percentile_spectrum_figure(panels)
    # The page shows these under the model's heading; a figure of its own must say whose it is.
    figure.text(0.995, 0.995, model, ha="right", va="top", fontsize=8.5, color=charts.MUTED)
    return shown_inline(figure)


def latency_cdf(report: Report) -> Figure:
    """TTFT and TTLT (service time) of every model, overlaid as cumulative distributions."""
    models = report["models"]
    overlaid: tuple[tuple[str, HdrName], ...] = (("TTFT", "ttft_service"), ("TTLT", "ttlt_service"))
    panels = [
        (title, [(model, section["hdr"].get(key)) for model, section in models.items()])
        for title, key in overlaid
    ]
    return charts.cdfs_figure(panels)


def tradeoff(report: Report) -> Figure:
    """Each model placed on the verdict's axes: quality against cost and against TTLT p95
    (cost against TTLT p95 when nothing was scored). The Pareto front's models are filled."""
    models = report["models"]
    axes_used, front = pareto_front(models)
    verdict = report.get("verdict")
    if verdict is not None:  # the front the report states (the same, unless it was edited)
        front = verdict["pareto"]["front"]
    readers = {name: read for name, read, _ in PARETO_AXES}
    pairs: list[tuple[ParetoAxis, ParetoAxis]] = []
    if "quality_mean" in axes_used:
        pairs = [(x, "quality_mean") for x in axes_used if x != "quality_mean"]
    elif len(axes_used) == 2:
        pairs = [(axes_used[0], axes_used[1])]
    with matplotlib.rc_context(charts.STYLE):  # type: ignore[arg-type]  # checked at run time
        figure = Figure(figsize=(charts.WIDTH_IN, 3.2), layout="constrained")
        if not pairs:
            axes = figure.add_subplot(1, 1, 1)
            axes.set_axis_off()
            axes.text(
                0.5,
                0.5,
                "nothing to weigh: no two of cost, TTLT and quality measured",
                ha="center",
                va="center",
                color=charts.MUTED,
            )
            return figure
        for index, (x, y) in enumerate(pairs):
            axes = figure.add_subplot(1, len(pairs), index + 1)
            _place_models(axes, models, front, readers[x], readers[y])
            axes.set_xlabel(AXIS_LABELS[x])
            axes.set_ylabel(AXIS_LABELS[y])
            axes.set_title(_title(y, x))
        figure.suptitle(
            "Filled: on the Pareto front (no other model is at least as good on every axis "
            "and better on one)",
            fontsize=8.5,
            color=charts.MUTED,
            x=0.01,
            ha="left",
        )
        return figure


def _place_models(
    axes: Axes,
    models: Mapping[str, ModelSection],
    front: list[str],
    read_x: Callable[[ModelSection], float | None],
    read_y: Callable[[ModelSection], float | None],
) -> None:
    points = [
        (model, x, y, color)
        for (model, section), color in zip(models.items(), charts.PALETTE * 4, strict=False)
        if (x := read_x(section)) is not None and (y := read_y(section)) is not None
    ]
    if not points:
        axes.text(
            0.5,
            0.5,
            "not measured",
            transform=axes.transAxes,
            ha="center",
            va="center",
            color=charts.MUTED,
        )
        return
    middle = (min(p[1] for p in points) + max(p[1] for p in points)) / 2
    for model, x, y, color in points:
        filled = model in front
        axes.scatter(
            [x],
            [y],
            s=70,
            color=color if filled else "white",
            edgecolors=color,
            linewidths=1.8,
            zorder=3,
        )
        # Names on the right half are written leftwards, so that they stay inside the axes.
        right = x > middle
        axes.annotate(
            charts.short_name(model),
            (x, y),
            xytext=(-7 if right else 7, 5),
            textcoords="offset points",
            ha="right" if right else "left",
            fontsize=8.5,
            color=color,
        )
    axes.margins(x=0.15, y=0.2)


def _short_label(axis: ParetoAxis) -> str:
    return {"cost_per_1k": "cost", "ttlt_p95_ms": "TTLT p95", "quality_mean": "quality"}[axis]


def _title(y: ParetoAxis, x: ParetoAxis) -> str:
    return f"{_short_label(y).capitalize()} against {_short_label(x)}"


def _series(report: Report) -> Mapping[str, Any]:
    return report.get("timeseries") or {}


def _target_rps(report: Report) -> float | None:
    return report["run"]["generator"]["target_rps"]


def _lag(report: Report) -> Any:
    return charts.merged(
        [section["hdr"].get("schedule_lag") for section in report["models"].values()]
    )


def shown_inline(figure: Figure) -> Figure:
    """The figure, once IPython (when it runs) knows to show a Figure as a PNG.

    The report's charts are made without pyplot, so that drawing one changes nothing global:
    matplotlib's inline backend, which registers that display when pyplot is imported, may
    never have loaded. A display the user set up (`%matplotlib inline`, retina) is kept."""
    _register_png_display()
    return figure


def _register_png_display() -> None:
    try:
        from IPython import get_ipython
        from IPython.core.pylabtools import print_figure
    except ImportError:  # not in IPython: nothing shows figures inline
        return
    shell = get_ipython()
    if shell is None:
        return
    png = shell.display_formatter.formatters["image/png"]
    try:
        png.lookup_by_type(Figure)
    except KeyError:
        png.for_type(Figure, lambda figure: print_figure(figure, "png"))  # type: ignore[no-untyped-call]
