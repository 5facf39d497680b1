"""A saved run's charts: matplotlib Figures, each named, shown inline by IPython."""

from __future__ import annotations

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from loadgen.notebook import load
from loadgen.notebook.figures import MODEL_FIGURES, RUN_FIGURES


def test_charts_are_figures_named_for_the_run_and_for_each_model(saved_run: Path) -> None:
    result = load(saved_run)
    charts = result.charts()
    per_model = [f"{name}/{model}" for model in result.models for name in MODEL_FIGURES]
    assert list(charts) == [*RUN_FIGURES, *per_model]
    for name, figure in charts.items():
        assert isinstance(figure, Figure), name
        assert figure.axes, name
    spectrum = charts["latency_spectrum/nova-pro"]
    assert "nova-pro" in [text.get_text() for text in spectrum.texts]


def test_the_tradeoff_places_each_model_and_fills_the_pareto_front(saved_run: Path) -> None:
    result = load(saved_run)
    figure = result.figure("tradeoff")
    # Unpriced models: quality is weighed against TTLT p95 alone, in one panel.
    (axes,) = figure.axes
    assert axes.get_ylabel() == "mean quality score"
    labels = [text.get_text() for text in axes.texts]
    assert labels == result.models
    front = result.report["verdict"]["pareto"]["front"]
    white = (1.0, 1.0, 1.0)
    filled = [tuple(dots.get_facecolor()[0][:3]) != white for dots in axes.collections]
    assert filled == [model in front for model in result.models]


def test_a_chart_by_an_unknown_name_or_of_an_unnamed_model_says_what_there_is(
    saved_run: Path,
) -> None:
    result = load(saved_run)
    with pytest.raises(ValueError, match="latency_cdf"):
        result.figure("latency")
    with pytest.raises(ValueError, match="nova-lite"):
        result.figure("latency_spectrum")  # three models: which one?
    with pytest.raises(ValueError, match="no model 'other'"):
        result.figure("latency_spectrum", "other")
    assert result.figure("latency_spectrum", "nova-lite").axes
    assert result.figure("latency_spectrum/nova-lite").axes


def test_ipython_shows_a_figure_as_a_png(saved_run: Path) -> None:
    """The charts are drawn without pyplot, so no inline backend registered a display:
    asking for one registers it, where IPython runs."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        figure = load(saved_run).figure("throughput")
        data, _ = shell.display_formatter.format(figure)
        assert data["image/png"][:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        InteractiveShell.clear_instance()
