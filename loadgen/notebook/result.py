"""A finished run as one object: its report, and its figures as tables and charts."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

from loadgen.compare.runs import CompareOptions, compare_reports
from loadgen.notebook import figures
from loadgen.report.saved_run import SAMPLES_FILE, SavedRun, reading
from loadgen.report.schema import Report

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Result:
    """One run: what `run`/`run_sync` return and `load` reads back.

    `report` is report.json as typed by loadgen/report/schema.py (docs/report.md);
    `out_dir` the folder the run wrote; `exit_code` what `loadgen run` would have exited with
    (None for a run read back: the report does not record it).
    """

    report: Report
    out_dir: Path
    exit_code: int | None = None

    @property
    def status(self) -> str:
        """completed, interrupted, aborted or failed."""
        return self.report["run"]["status"]

    @property
    def models(self) -> list[str]:
        return list(self.report["models"])

    def samples(self, *, warmup: bool = False) -> pd.DataFrame:
        """samples.jsonl, one row per request (docs/report.md has the fields); warmup
        requests only with `warmup=True`, as the report's figures leave them out."""
        path = self.out_dir / SAMPLES_FILE
        if not path.is_file():
            raise FileNotFoundError(f"{path}: this run's folder has no {SAMPLES_FILE}")
        from loadgen.notebook import frames  # pandas, imported when a table is asked for

        return frames.samples_frame(path, warmup=warmup)

    def stats(self) -> pd.DataFrame:
        """One row per model: requests, errors, latency (service time, ms), tokens,
        throughput, cost and quality."""
        from loadgen.notebook import frames

        with self._reading():
            return frames.stats_frame(self.report)

    def tradeoff(self) -> pd.DataFrame:
        """One row per model: quality, speed, errors and cost side by side, the requirements
        met and missed, and whether the model is on the Pareto front."""
        from loadgen.notebook import frames

        with self._reading():
            return frames.tradeoff_frame(self.report)

    def requirements(self) -> pd.DataFrame:
        """Each requirement of the scenario, for each model: measured, limit, met."""
        from loadgen.notebook import frames

        with self._reading():
            return frames.requirements_frame(self.report)

    def verdict(self) -> str:
        """The verdict in words: which models meet every requirement, and the Pareto front."""
        verdict = self.report.get("verdict")
        if verdict is None:
            return "no verdict: this report has none (a merged run)"
        lines = []
        for model, judged in verdict["models"].items():
            if judged["requirements"]:
                missed = [r["check"] for r in judged["requirements"] if not r["passed"]]
                said = f"misses {', '.join(missed)}" if missed else "meets every requirement"
                lines.append(f"{model}: {said}")
        if verdict["requirements"]:
            meeting = verdict["meeting_all"]
            lines.append(f"meets every requirement: {', '.join(meeting) or 'no model'}")
        pareto = verdict["pareto"]
        if pareto["axes"]:
            front = ", ".join(pareto["front"]) or "none"
            lines.append(f"Pareto front ({', '.join(pareto['axes'])}): {front}")
        return "\n".join(lines) or "no requirements and nothing to weigh"

    def figure(self, name: str, model: str | None = None) -> Figure:
        """One chart, by name: the run's (figures.RUN_FIGURES) or a model's
        (figures.MODEL_FIGURES; `model` may be left out when the run has one model, or
        given as "name/model", as charts() names them)."""
        if model is None and "/" in name:
            name, model = name.split("/", 1)
        if name in figures.RUN_FIGURES:
            with self._reading():
                return figures.run_figure(self.report, name)
        if name not in figures.MODEL_FIGURES:
            raise ValueError(
                f"no chart named {name!r}: the run's are {', '.join(figures.RUN_FIGURES)}; "
                f"each model's are {', '.join(figures.MODEL_FIGURES)} (name/model)"
            )
        if model is None and len(self.models) == 1:
            model = self.models[0]
        if model not in self.models:
            named = "no model named" if model is None else f"no model {model!r} in this run:"
            raise ValueError(f"{name} is drawn per model, and {named} name one of {self.models}")
        with self._reading():
            return figures.model_figure(self.report, name, model)

    def charts(self) -> dict[str, Figure]:
        """Every chart: the run's by name, then each model's as "name/model"."""
        names = [
            *figures.RUN_FIGURES,
            *(f"{name}/{model}" for model in self.models for name in figures.MODEL_FIGURES),
        ]
        return {name: self.figure(name) for name in names}

    def compare(self, baseline: Result, options: CompareOptions | None = None) -> pd.DataFrame:
        """This run against `baseline`, as `loadgen compare BASELINE THIS` judges it
        (docs/compare.md): one row per model and metric with the change, its confidence
        interval or p-value, and regression / improvement / no change."""
        from loadgen.notebook import frames

        with self._reading(), baseline._reading():
            comparison = compare_reports(
                baseline.report,
                self.report,
                options or CompareOptions(),
                labels=(str(baseline.out_dir), str(self.out_dir)),
            )
        return frames.comparison_frame(comparison)

    def __repr__(self) -> str:
        run = self.report["run"]
        return (
            f"<loadgen Result {run['scenario']!r} {run['status']}: "
            f"{', '.join(self.models)}; {self.out_dir}>"
        )

    def _reading(self) -> AbstractContextManager[None]:
        """A report of another shape read here fails with what in it is wrong."""
        return reading(SavedRun(self.report, self.out_dir / "report.json"))
