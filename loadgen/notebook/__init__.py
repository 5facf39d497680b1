"""loadgen from Python and Jupyter (docs/notebook.md).

    import loadgen.notebook as lg

    result = lg.run_sync("scenarios/email_summary.yaml", rps=5, duration="20s", emulate=True)
    result.stats()                   # one row per model (pandas)
    result.figure("tradeoff")        # a matplotlib Figure, shown inline
    again = lg.load(result.out_dir)  # a saved run

`run` is the same, awaited (`await lg.run(...)` in a cell). Tables need pandas:
`pip install 'loadgen[notebook]'`.
"""

from loadgen.notebook.result import Result
from loadgen.notebook.running import load, run, run_sync

__all__ = ["Result", "load", "run", "run_sync"]
