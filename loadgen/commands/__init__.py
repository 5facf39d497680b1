"""The subcommands of `loadgen`, a module per family; loadgen/cli.py puts them in one group."""
