"""The report's charts: matplotlib figures rendered to inline SVG strings.

Each chart is drawn by a `*_figure` function that returns the Figure (what a notebook shows,
loadgen/notebook) and rendered by the function of the plain name, for the page.

SVG keeps the page one self-contained file that needs no JavaScript and no network, stays
sharp when zoomed, and is small (text stays text: `svg.fonttype: none`). Only the
object-oriented API is used (no pyplot), so nothing global changes and no GUI backend loads.
"""

from __future__ import annotations

import io
import itertools
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import accumulate
from typing import Any

import matplotlib
import numpy
from hdrh.histogram import HdrHistogram
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

PALETTE = ["#2563eb", "#ea580c", "#16a34a", "#9333ea", "#db2777", "#0891b2", "#ca8a04"]
SERVICE, RESPONSE, ERROR, MUTED = "#2563eb", "#ea580c", "#dc2626", "#6b7280"
DROPPED = "#a21caf"  # never "other errors": requests the generator did not send
WIDTH_IN = 9.0

STYLE: dict[str, Any] = {
    "svg.fonttype": "none",  # text as <text>, in the page's own font: smaller and crisper
    "font.family": "sans-serif",
    "font.sans-serif": ["Helvetica", "Arial", "DejaVu Sans", "Liberation Sans"],
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e5e7eb",
    "grid.linewidth": 0.8,
    "axes.edgecolor": "#9ca3af",
    "legend.frameon": False,
    "legend.fontsize": 8.5,
    "lines.linewidth": 1.6,
    "path.simplify": True,
}

# The percentile spectrum's x axis: 1 / (1 - p), log-scaled, to p99.9.
SPECTRUM_TICKS = {1.0: "", 2.0: "50%", 10.0: "90%", 100.0: "99%", 1000.0: "99.9%"}
TICK_PERCENTS = {2.0: 50.0, 10.0: 90.0, 100.0: 99.0, 1000.0: 99.9}
SPECTRUM_STEPS = 90
MAX_POINTS = 240  # per time-series line: a long run's page stays small
MEAN_SERIES = {"sends", "completions", "output_tokens", "p50"}
_CHART_NUMBERS = itertools.count()


def _figure(height: float, width: float = WIDTH_IN, right: float = 0.97) -> Figure:
    """Fixed margins, sized for our labels: matplotlib's automatic layouts cost about half a
    second a figure, which adds up to seconds at the end of every run."""
    figure = Figure(figsize=(width, height))
    inch_w, inch_h = 1 / width, 1 / height
    figure.subplots_adjust(
        left=0.72 * inch_w,
        right=right,
        bottom=0.5 * inch_h,
        top=1 - 0.3 * inch_h,
        wspace=0.72 * inch_w * 3 + (0.2 if right < 0.95 else 0.0),
    )
    return figure


@contextmanager
def _style() -> Iterator[None]:
    with matplotlib.rc_context(STYLE):  # type: ignore[arg-type]  # keys are checked at run time
        yield


def to_svg(figure: Figure) -> str:
    """The figure as an <svg> element to inline in HTML (no XML prologue, no fixed size)."""
    buffer = io.StringIO()
    # Clip paths and markers are referenced by id: give each chart of a page its own ids.
    # The style again: svg.fonttype and path.simplify are read when the figure is saved.
    with _style(), matplotlib.rc_context({"svg.hashsalt": f"chart{next(_CHART_NUMBERS)}"}):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    # Scale with the page: keep the viewBox, drop the fixed width and height.
    svg = re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r"<svg\1", svg, count=1)
    return svg.replace("<svg", '<svg class="chart" role="img"', 1)


def decode(encoded: str | None) -> HdrHistogram | None:
    if not encoded:
        return None
    histogram = HdrHistogram.decode(encoded.encode("ascii"))
    return histogram if histogram.get_total_count() else None


def merged(encoded: Sequence[str | None]) -> HdrHistogram | None:
    """Several encoded histograms added into one (e.g. every model's schedule lag)."""
    total: HdrHistogram | None = None
    for item in encoded:
        histogram = decode(item)
        if histogram is None:
            continue
        if total is None:
            total = histogram
        else:
            total.add(histogram)
    return total


def _distribution(histogram: HdrHistogram) -> tuple[list[int], Any]:
    """Each recorded value (highest equivalent, µs) with the count at or below it.

    Reads the counts array directly: hdrh's own iterators and percentile lookups walk every
    one of its ~47,000 buckets in Python, once per call.
    """
    counts = numpy.ctypeslib.as_array(histogram.counts)[: histogram.counts_len]
    indexes = numpy.nonzero(counts)[0]
    values = [
        histogram.get_highest_equivalent_value(histogram.get_value_from_index(int(i)))
        for i in indexes
    ]
    return values, numpy.cumsum(counts[indexes])


def spectrum(histogram: HdrHistogram, scale: float = 1000.0) -> tuple[list[float], list[float]]:
    """(1/(1-p), value) from p = 0 to p99.9, evenly spaced on the log axis; the value at p
    is the highest equivalent value of the first bucket that reaches p (as hdrh does)."""
    values, cumulative = _distribution(histogram)
    total = int(cumulative[-1])
    # The grid includes the labelled percentiles exactly, so the curve passes through them.
    grid = {10 ** (3 * i / SPECTRUM_STEPS) for i in range(SPECTRUM_STEPS + 1)}
    xs = sorted(grid | set(SPECTRUM_TICKS))
    ys = []
    for x in xs:
        percent = TICK_PERCENTS.get(x, 100 * (1 - 1 / x))
        target = max(int(percent * total / 100 + 0.5), 1)  # hdrh's own arithmetic for the rank
        index = int(numpy.searchsorted(cumulative, target))
        ys.append(values[min(index, len(values) - 1)] / scale)
    return xs, ys


def cdf(histogram: HdrHistogram, scale: float = 1000.0) -> tuple[list[float], list[float]]:
    """(value, fraction at or below it) at every recorded value: a step curve."""
    values, cumulative = _distribution(histogram)
    total = float(cumulative[-1])
    return [v / scale for v in values], [float(c) / total for c in cumulative]


def _spectrum_axis(axes: Axes) -> None:
    axes.set_xscale("log")
    axes.set_xlim(1, 1000)
    axes.xaxis.set_major_locator(FixedLocator(list(SPECTRUM_TICKS)))
    axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _: SPECTRUM_TICKS.get(x, "")))
    axes.xaxis.set_minor_locator(NullLocator())
    axes.set_xlabel("percentile")


def _whole_seconds(*axes: Axes) -> None:
    for each in axes:
        each.xaxis.set_major_locator(MaxNLocator(integer=True))


def _note(axes: Axes, text: str) -> None:
    axes.text(0.5, 0.5, text, transform=axes.transAxes, ha="center", va="center", color=MUTED)


def percentile_spectrum(panels: Sequence[tuple[str, Sequence[tuple[str, str | None]]]]) -> str:
    """percentile_spectrum_figure as inline SVG, for the page."""
    return to_svg(percentile_spectrum_figure(panels))


def percentile_spectrum_figure(
    panels: Sequence[tuple[str, Sequence[tuple[str, str | None]]]],
) -> Figure:
    """One panel per metric, each with several labelled histograms (service, response)."""
    with _style():
        figure = _figure(2.9)
        for index, (title, series) in enumerate(panels):
            axes = figure.add_subplot(1, len(panels), index + 1)
            axes.set_title(title)
            _spectrum_axis(axes)
            if index == 0:
                axes.set_ylabel("ms")
            drawn = 0
            for (label, encoded), color in zip(series, [SERVICE, RESPONSE, *PALETTE], strict=False):
                histogram = decode(encoded)
                if histogram is None:
                    continue
                xs, ys = spectrum(histogram)
                axes.plot(xs, ys, label=label, color=color, drawstyle="steps-post")
                drawn += 1
            if drawn:
                axes.set_ylim(bottom=0)
                if drawn > 1:
                    axes.legend(loc="lower right")
            else:
                _note(axes, "nothing measured")
        return figure


def cdfs(panels: Sequence[tuple[str, Sequence[tuple[str, str | None]]]]) -> str:
    """cdfs_figure as inline SVG, for the page."""
    return to_svg(cdfs_figure(panels))


def cdfs_figure(panels: Sequence[tuple[str, Sequence[tuple[str, str | None]]]]) -> Figure:
    """Cumulative distributions, one panel per metric, one line per labelled histogram."""
    with _style():
        figure = _figure(2.9)
        for index, (title, series) in enumerate(panels):
            axes = figure.add_subplot(1, len(panels), index + 1)
            axes.set_title(title)
            axes.set_xlabel("ms")
            axes.set_ylim(0, 1.02)
            axes.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:.0%}"))
            drawn = 0
            colors = PALETTE if len(series) > 2 else [SERVICE, RESPONSE]
            for (label, encoded), color in zip(series, colors, strict=False):
                histogram = decode(encoded)
                if histogram is None:
                    continue
                xs, ys = cdf(histogram)
                axes.step(xs, ys, where="post", label=short_name(label), color=color)
                drawn += 1
            if drawn:
                axes.legend(loc="lower right")
            else:
                _note(axes, "nothing measured")
        return figure


def _seconds(series: Mapping[str, Any]) -> list[float]:
    start = float(series.get("start_s", 0))
    step = float(series.get("interval_s", 1))
    return [start + i * step for i in range(len(series.get("sends", [])))]


def thin(series: Mapping[str, Any], max_points: int = MAX_POINTS) -> dict[str, Any]:
    """The per-second series in at most max_points bins, for charts of long runs.

    Rates and medians are averaged over a bin (they stay "per second"); tails, maxima,
    in-flight counts and errors keep the bin's worst second, so a spike still shows.
    """
    count = len(series.get("sends", []))
    series = {**series, "in_flight": in_flight(series)}
    if count <= max_points:
        return series
    size = math.ceil(count / max_points)

    def binned(values: list[Any], worst: bool) -> list[Any]:
        out: list[Any] = []
        for start in range(0, len(values), size):
            chunk = [v for v in values[start : start + size] if v is not None]
            if not chunk:
                out.append(None)
            else:
                out.append(max(chunk) if worst else sum(chunk) / len(chunk))
        return out

    def walk(value: Any, key: str) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return binned(value, worst=key not in MEAN_SERIES)
        return value

    thinned = {k: walk(v, k) for k, v in series.items() if k not in ("interval_s", "start_s")}
    step = float(series.get("interval_s", 1)) * size
    return {**thinned, "interval_s": step, "start_s": series.get("start_s", 0)}


def latency_over_time(series: Mapping[str, Any], model: str) -> str:
    """latency_over_time_figure as inline SVG, for the page."""
    return to_svg(latency_over_time_figure(series, model))


def latency_over_time_figure(series: Mapping[str, Any], model: str) -> Figure:
    """TTFT and TTLT p50/p99 per second for one model, with its errors as red bars."""
    series = thin(series)
    detail = series.get("models", {}).get(model, {})
    seconds = _seconds(series)
    marker = "." if len(seconds) <= 60 else None
    width = 0.9 * float(series.get("interval_s", 1))
    with _style():
        errors = detail.get("errors") or [0] * len(seconds)
        figure = _figure(3.0, right=0.94 if any(errors) else 0.97)
        for index, (key, title) in enumerate((("ttft_ms", "TTFT"), ("ttlt_ms", "TTLT"))):
            axes = figure.add_subplot(1, 2, index + 1)
            axes.set_title(f"{title} per second (service time)")
            axes.set_xlabel("seconds since start")
            _whole_seconds(axes)
            if index == 0:
                axes.set_ylabel("ms")
            values = detail.get(key, {})
            drawn = 0
            for name, color, style in (("p50", SERVICE, "-"), ("p99", RESPONSE, "-")):
                ys = [float("nan") if v is None else v for v in values.get(name, [])]
                if any(v == v for v in ys):  # not all NaN
                    axes.plot(seconds[: len(ys)], ys, style, color=color, label=name, marker=marker)
                    drawn += 1
            if any(errors):
                twin = axes.twinx()
                twin.bar(seconds[: len(errors)], errors, color=ERROR, alpha=0.35, width=width)
                twin.set_ylabel("errors / s", color=ERROR)
                twin.tick_params(axis="y", colors=ERROR)
                twin.grid(False)
                twin.spines["right"].set_visible(True)
                twin.set_ylim(0, max(errors) * 3)  # keep the bars low, under the lines
                twin.yaxis.set_major_locator(MaxNLocator(integer=True))
            axes.set_ylim(bottom=0)
            if seconds:
                axes.set_xlim(seconds[0] - width / 2, seconds[-1] + width / 2)
            if drawn:
                axes.legend(loc="lower right")
            else:
                _note(axes, "nothing measured")
        return figure


def in_flight(series: Mapping[str, Any]) -> list[int]:
    """Requests sent but not finished at the end of each second."""
    if "in_flight" in series:
        return list(series["in_flight"])
    sends = list(accumulate(series.get("sends", [])))
    done = list(accumulate(series.get("completions", [])))
    return [s - d for s, d in zip(sends, done, strict=False)]


def throughput(series: Mapping[str, Any], target_rps: float | None) -> str:
    """throughput_figure as inline SVG, for the page."""
    return to_svg(throughput_figure(series, target_rps))


def throughput_figure(series: Mapping[str, Any], target_rps: float | None) -> Figure:
    """Sends and completions per second with the target rate; output tokens/s; in flight."""
    series = thin(series)
    seconds = _seconds(series)
    with _style():
        figure = _figure(2.9)
        rate = figure.add_subplot(1, 3, 1)
        rate.set_title("Requests per second")
        rate.plot(seconds, series.get("sends", []), color=SERVICE, label="sent")
        rate.plot(seconds, series.get("completions", []), color=PALETTE[2], label="completed")
        if target_rps:
            rate.axhline(target_rps, color=MUTED, linestyle="--", linewidth=1, label="target")
        rate.set_ylim(bottom=0)
        rate.legend(loc="lower center")
        tokens = figure.add_subplot(1, 3, 2)
        tokens.set_title("Output tokens per second")
        tokens.plot(seconds, series.get("output_tokens", []), color=PALETTE[3])
        tokens.set_ylim(bottom=0)
        flight = figure.add_subplot(1, 3, 3)
        flight.set_title("In flight (end of second)")
        flight.fill_between(seconds, in_flight(series), step="post", color=SERVICE, alpha=0.3)
        flight.step(seconds, in_flight(series), where="post", color=SERVICE)
        flight.set_ylim(bottom=0)
        for axes in (rate, tokens, flight):
            axes.set_xlabel("seconds since start")
        _whole_seconds(rate, tokens, flight)
        return figure


def error_timeline(series: Mapping[str, Any]) -> str:
    """error_timeline_figure as inline SVG, for the page."""
    return to_svg(error_timeline_figure(series))


def error_timeline_figure(series: Mapping[str, Any]) -> Figure:
    """Throttles, other errors and drops per second, stacked. Drops (never sent: the
    in-flight cap) are counted in the series' errors; they are drawn apart, in their colour."""
    series = thin(series)
    seconds = _seconds(series)
    throttled = series.get("throttled") or [0] * len(seconds)
    dropped = series.get("dropped") or [0] * len(seconds)
    errors = series.get("errors", [])
    other = [max(e - t - d, 0) for e, t, d in zip(errors, throttled, dropped, strict=False)]
    with _style():
        figure = _figure(2.2)
        axes = figure.add_subplot(1, 1, 1)
        axes.set_title("Throttles, errors and dropped requests per second")
        width = 0.9 * float(series.get("interval_s", 1))
        axes.bar(seconds, throttled, color=PALETTE[6], label="throttled", width=width)
        axes.bar(seconds, other, bottom=throttled, color=ERROR, label="other errors", width=width)
        below = [t + o for t, o in zip(throttled, other, strict=False)]
        if any(dropped):
            axes.bar(seconds, dropped, bottom=below, color=DROPPED, label="dropped", width=width)
        axes.set_xlabel("seconds since start")
        axes.set_xlim(min(seconds, default=0) - width / 2, max(seconds, default=0) + width / 2)
        _whole_seconds(axes)
        if any(errors):
            axes.legend(loc="upper left")
        else:
            axes.set_ylim(0, 1)
            _note(axes, "no throttles, no errors, nothing dropped")
        return figure


def schedule_lag(series: Mapping[str, Any], lag: HdrHistogram | None) -> str:
    """schedule_lag_figure as inline SVG, for the page."""
    return to_svg(schedule_lag_figure(series, lag))


def schedule_lag_figure(series: Mapping[str, Any], lag: HdrHistogram | None) -> Figure:
    """The generator's own lateness: per second (p50/p99/max) and its percentile spectrum."""
    series = thin(series)
    seconds = _seconds(series)
    values = series.get("lag_ms", {})
    with _style():
        figure = _figure(2.7)
        axes = figure.add_subplot(1, 2, 1)
        axes.set_title("Schedule lag per second")
        drawn = 0
        for name, color in (("p50", SERVICE), ("p99", RESPONSE), ("max", ERROR)):
            ys = [float("nan") if v is None else v for v in values.get(name, [])]
            if any(v == v for v in ys):  # not all NaN
                axes.plot(seconds[: len(ys)], ys, color=color, label=name, linewidth=1.2)
                drawn += 1
        axes.set_xlabel("seconds since start")
        _whole_seconds(axes)
        axes.set_ylabel("ms")
        axes.set_ylim(bottom=0)
        if drawn:
            axes.legend(loc="upper right")
        else:
            _note(axes, "nothing measured")
        tail = figure.add_subplot(1, 2, 2)
        tail.set_title("Schedule lag percentiles")
        _spectrum_axis(tail)
        if lag is not None:
            xs, ys = spectrum(lag)
            tail.plot(xs, ys, color=SERVICE, drawstyle="steps-post")
            tail.set_ylim(bottom=0)
        else:
            _note(tail, "nothing measured")
        return figure


def xy_curves(title: str, x_label: str, lines: dict[str, tuple[list[float], list[float]]]) -> str:
    """Generic lines (sweep curves): label → (xs, ys)."""
    with _style():
        figure = _figure(2.7, width=WIDTH_IN / 2)
        axes = figure.add_subplot(1, 1, 1)
        axes.set_title(title)
        axes.set_xlabel(x_label)
        for (label, (xs, ys)), color in zip(lines.items(), PALETTE * 4, strict=False):
            axes.plot(xs, ys, marker="o", markersize=3.5, color=color, label=short_name(label))
        axes.set_ylim(bottom=0)
        if len(lines) > 1:
            axes.legend(loc="best")
        return to_svg(figure)


def short_name(model: str) -> str:
    """A model id short enough for a legend: the provider prefix and version suffix go."""
    name = model.split(".", 2)[-1] if model.count(".") >= 2 else model
    return name if len(name) <= 32 else name[:30] + "…"


def sweep_stages(
    stages: Sequence[Mapping[str, Any]], knee_rps: float | None, throughput_share: float
) -> str:
    """sweep_stages_figure as inline SVG, for sweep.html."""
    return to_svg(sweep_stages_figure(stages, knee_rps, throughput_share))


def sweep_stages_figure(
    stages: Sequence[Mapping[str, Any]], knee_rps: float | None, throughput_share: float
) -> Figure:
    """One sweep's stages against their rate: throughput with its 95 % interval, goodput and
    the offered rate (dotted: the share below which a stage is saturated); TTFT p50
    (response) and p95 (service). Saturated stages are red crosses; the knee a dotted line."""
    ordered = sorted(stages, key=lambda s: float(s["rate"]))
    rates = [float(s["rate"]) for s in ordered]

    def values(key: str) -> list[float]:
        return [float("nan") if s.get(key) is None else float(s[key]) for s in ordered]

    dot: dict[str, Any] = {"marker": "o", "markersize": 3.5}
    with _style():
        figure = _figure(2.9)
        rate, latency = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)
        rate.set_title("Throughput by offered rate")
        rate.set_ylabel("req/s")
        if rates:
            top = max(rates) * 1.05
            rate.plot([0, top], [0, top], "--", color=MUTED, linewidth=1, label="offered")
            rate.plot([0, top], [0, top * throughput_share], ":", color=MUTED, linewidth=1)
            throughput = values("throughput_rps")
            bars: list[list[float]] = [[], []]
            for value, stage in zip(throughput, ordered, strict=True):
                interval = stage.get("throughput_interval_rps") or (value, value)
                known = value == value  # NaN: nothing measured
                bars[0].append(value - interval[0] if known else 0.0)
                bars[1].append(interval[1] - value if known else 0.0)
            rate.errorbar(
                rates, throughput, yerr=bars, color=SERVICE, capsize=3, label="throughput", **dot
            )
            rate.plot(rates, values("goodput_rps"), color=RESPONSE, label="goodput", **dot)
        latency.set_title("TTFT by offered rate")
        latency.set_ylabel("ms")
        latency.plot(
            rates, values("ttft_response_p50_ms"), color=SERVICE, label="p50 (response)", **dot
        )
        latency.plot(rates, values("ttft_p95_ms"), color=RESPONSE, label="p95 (service)", **dot)
        for axes, key in ((rate, "throughput_rps"), (latency, "ttft_response_p50_ms")):
            saturated = [
                (float(s["rate"]), float(s[key]))
                for s in ordered
                if s.get("saturated") and s.get(key) is not None
            ]
            if saturated:
                axes.plot(
                    [x for x, _ in saturated],
                    [y for _, y in saturated],
                    "x",
                    color=ERROR,
                    markersize=8,
                    markeredgewidth=2,
                    label="saturated",
                )
            if knee_rps is not None:
                axes.axvline(knee_rps, color=ERROR, linestyle=":", linewidth=1.2, label="knee")
            axes.set_xlabel("offered req/s")
            axes.set_xlim(left=0)
            axes.set_ylim(bottom=0)
            if rates:
                axes.legend(loc="upper left")
            else:
                _note(axes, "no stage ran")
        return figure
