"""python -m loadgen.emulator [--host H] [--port N] [--config FILE] [--log FILE]"""

from __future__ import annotations

import argparse

from loadgen.emulator.profiles import EmulatorConfig
from loadgen.emulator.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m loadgen.emulator", description="Serve the Bedrock emulator."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one")
    parser.add_argument(
        "--config",
        help="YAML or JSON file of emulator profiles (default: the built-in estimates)",
    )
    parser.add_argument("--log", help="JSONL file: one line per request, what was injected")
    args = parser.parse_args(argv)
    config = EmulatorConfig.from_file(args.config) if args.config else EmulatorConfig.builtin()
    serve(args.host, args.port, config, log_path=args.log)


if __name__ == "__main__":
    main()
