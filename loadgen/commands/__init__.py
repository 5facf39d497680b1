"""The subcommands of `loadgen`, a module per family; loadgen/cli.py puts them in one group.

Each command imports the library inside its function, when it runs: `loadgen --help` (or a
mistyped flag) must not pay a second for pydantic, aioboto3 and matplotlib. Apart from optional
dependencies (Ray, uvloop), these are the only imports inside functions in loadgen.
"""
