"""report.html's replay chart: the log beside what was sent, arrivals per second over replay
time and the token percentiles of each side (report.json's `replay`, docs/replay.md)."""

from __future__ import annotations

import numpy
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from loadgen.report.html.charts import MUTED, PALETTE, SERVICE, _figure, _style, to_svg
from loadgen.report.replay_types import ReplaySection, ReplayTokens

PERCENTILES = ("p50", "p95", "p99")  # the bars, in this order


def replay_chart(section: ReplaySection) -> str:
    """replay_figure as inline SVG, for the page."""
    return to_svg(replay_figure(section))


def replay_figure(section: ReplaySection) -> Figure:
    arrivals = section["arrivals"]
    bin_s = arrivals["bin_s"]
    with _style():
        figure = _figure(2.9)
        rate = figure.add_subplot(1, 3, 1)
        rate.set_title("Arrivals per second")
        # The log dashed over what was sent: where they agree, both show.
        for counts, color, style, label in (
            (arrivals["replayed"], SERVICE, "-", "sent"),
            (arrivals["source"], MUTED, "--", "log (÷ speed)"),
        ):
            seconds = [index * bin_s for index in range(len(counts))]
            rates = [count / bin_s for count in counts]
            rate.step(seconds, rates, where="post", color=color, linestyle=style, label=label)
        rate.set_xlabel("seconds of replay")
        rate.set_ylim(bottom=0)
        rate.legend(loc="lower center")
        _token_bars(figure.add_subplot(1, 3, 2), "Input tokens", section["input_tokens"])
        _token_bars(figure.add_subplot(1, 3, 3), "Output tokens", section["output_tokens"])
        return figure


def _token_bars(axes: Axes, title: str, tokens: ReplayTokens) -> None:
    axes.set_title(title)
    where = numpy.arange(len(PERCENTILES))
    for offset, side, color, label in (
        (-0.2, tokens["source"], MUTED, "log"),
        (0.2, tokens["replayed"], PALETTE[0], "replayed"),
    ):
        values = [side["p50"] or 0, side["p95"] or 0, side["p99"] or 0]
        axes.bar(where + offset, values, width=0.38, color=color, label=label)
    axes.set_xticks(where, list(PERCENTILES))
    axes.legend(loc="upper left")
