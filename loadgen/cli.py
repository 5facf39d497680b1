"""`loadgen`: a thin command line over the library. Exit codes are in docs/cli.md.

Each family of commands lives in loadgen/commands/; options several share are defined once
in loadgen/commands/options.py.
"""

from __future__ import annotations

import click

from loadgen import __version__
from loadgen.commands.cloudwatch import alarms, dashboard
from loadgen.commands.emulate import emulate
from loadgen.commands.plan import plan_command
from loadgen.commands.prices import prices
from loadgen.commands.replay import replay_command
from loadgen.commands.run import run_command
from loadgen.commands.saved_runs import compare, merge, report
from loadgen.commands.sweep import sweep_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="loadgen")
def main() -> None:
    """Load-test LLM endpoints (Amazon Bedrock) and report latency, tokens and errors."""


for command in (
    run_command,
    replay_command,
    sweep_command,
    plan_command,
    prices,
    dashboard,
    alarms,
    emulate,
    report,
    merge,
    compare,
):
    main.add_command(command)


if __name__ == "__main__":
    main()
