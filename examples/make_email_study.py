"""Writes email_study.ipynb, the email study as a notebook, with its outputs cleared.

    .venv/bin/python examples/make_email_study.py

The notebook is generated so that its cells stay reviewable as Python here; edit this file,
not the .ipynb, and run it again. tests/e2e/test_notebook.py executes the notebook headless.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOK = Path(__file__).with_name("email_study.ipynb")

CELLS = [
    new_markdown_cell(
        """# The email study, in a notebook

Three models summarise the same business emails (`scenarios/email_summary.yaml`): which one
should ship? This notebook runs the study against loadgen's built-in **emulator** (no AWS
account, nothing leaves the machine; every figure is synthetic), then shows the per-model
table, the cost / quality / latency trade-off, the verdict against the scenario's
requirements, and the report's charts.

Needs `pip install -e '.[notebook]'` (pandas) in the kernel's environment. The API is in
[docs/notebook.md](../docs/notebook.md). To test real Bedrock instead, drop `emulate=True`
(and mind the cost)."""
    ),
    new_code_cell(
        """import tempfile
from pathlib import Path

from IPython.display import display

import loadgen.notebook as lg

# The scenario, found from wherever the notebook runs (examples/ or the repository's root).
SCENARIO = next(
    folder / "scenarios" / "email_summary.yaml"
    for folder in [Path.cwd(), *Path.cwd().parents]
    if (folder / "scenarios" / "email_summary.yaml").is_file()
)
# A folder of its own for this run's files; give `out=` a folder of yours to keep them.
OUT = Path(tempfile.mkdtemp(prefix="email_study-"))"""
    ),
    new_markdown_cell(
        """## Run it

`run_sync` blocks until the run has ended, and works inside the notebook's own event loop
(the run gets a loop of its own on a worker thread). In a cell, `await lg.run(...)` does the
same. The keyword arguments are `loadgen run`'s flags: here 5 requests a second, shared by
the three models, for 12 seconds."""
    ),
    new_code_cell(
        """result = lg.run_sync(SCENARIO, rps=5, duration="12s", emulate=True, out=OUT, force=True)
result"""
    ),
    new_markdown_cell(
        """## Per model

Latencies are service times in milliseconds (from the moment the request left), the
figures the report shows first; `result.stats()` has one row per model."""
    ),
    new_code_cell(
        """stats = result.stats()
stats[
    [
        "sent",
        "ok",
        "error_rate",
        "ttft_p50_ms",
        "ttft_p95_ms",
        "ttlt_p95_ms",
        "output_tokens_per_s",
        "quality_mean",
    ]
]"""
    ),
    new_markdown_cell(
        """## The trade-off

Quality, speed, errors and cost side by side, as the verdict weighs them. A model is on the
Pareto front when no other model is at least as good on every axis (cost, TTLT p95,
quality) and better on one."""
    ),
    new_code_cell("result.tradeoff()"),
    new_code_cell('result.figure("tradeoff")'),
    new_markdown_cell(
        """## The verdict

Each requirement of the scenario (`requirements:`), for each model. Requirements never
change the exit code; thresholds do."""
    ),
    new_code_cell("print(result.verdict())\nresult.requirements()"),
    new_markdown_cell(
        """## Charts

The report's charts, as matplotlib Figures: `result.charts()` has them all by name,
`result.figure(name)` draws one."""
    ),
    new_code_cell('result.figure("latency_cdf")'),
    new_code_cell('result.figure("throughput")'),
    new_code_cell(
        """for model in result.models:
    display(result.figure("latency_spectrum", model))"""
    ),
    new_markdown_cell(
        """## Every request

`result.samples()` is samples.jsonl as a DataFrame, one row per request (integers in µs;
`<NA>` where an instant was never reached)."""
    ),
    new_code_cell(
        """samples = result.samples()
samples.groupby("model")["ttft_service_us"].describe()"""
    ),
    new_markdown_cell(
        """## Later: a saved run

`lg.load(folder)` reads a run back from its folder, with the same tables and charts;
`new.compare(baseline)` tests a later run against it, as `loadgen compare` does."""
    ),
    new_code_cell(
        """saved = lg.load(result.out_dir)
saved.stats().equals(stats)"""
    ),
]


def notebook() -> nbformat.NotebookNode:
    book = new_notebook(cells=CELLS)
    for number, cell in enumerate(book.cells, 1):
        cell.id = f"cell-{number}"  # stable, so that regenerating it changes nothing
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    book.metadata["language_info"] = {"name": "python"}
    return book


def main() -> None:
    book = notebook()
    nbformat.validate(book)
    nbformat.write(book, NOTEBOOK)
    print(NOTEBOOK)


if __name__ == "__main__":
    main()
