"""python -m loadgen.emulator [--host H] [--port N] [--config FILE] [--log FILE]"""

from __future__ import annotations

import argparse
import sys

from loadgen.emulator.profiles import EmulatorConfig
from loadgen.emulator.server import MAX_PORT, EmulatorBindError, serve


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"{port} is not from 0 to {MAX_PORT}")
    return port


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m loadgen.emulator", description="Serve the Bedrock emulator."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=_port, default=0, help="port; 0 picks a free one")
    parser.add_argument(
        "--config",
        help="YAML or JSON file of emulator profiles (default: the built-in estimates)",
    )
    parser.add_argument("--log", help="JSONL file: one line per request, what was injected")
    args = parser.parse_args(argv)
    config = EmulatorConfig.from_file(args.config) if args.config else EmulatorConfig.builtin()
    try:
        serve(args.host, args.port, config, log_path=args.log)
    except EmulatorBindError as exc:  # the host or port is wrong: say so, no traceback
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None


if __name__ == "__main__":
    main()
