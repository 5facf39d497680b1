"""Paths and runners the tests share, the same from any folder of tests/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
GOLDEN_DIR = TESTS / "golden"  # pinned shapes: tests/golden/report_shape.json


def loadgen(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    """`python -m loadgen.cli ARGS` from the repository root, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "loadgen.cli", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def make(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`make ARGS` in the repository, with the venv as it is: `-o` keeps the install step
    (its stamp older than pyproject.toml while the project is edited) from running again."""
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", *args],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "BEDROCK")},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def serialized_size(namespace: str, data: list[Any]) -> int:
    """What botocore really sends for these CloudWatch data: PutMetricData's form body."""
    from urllib.parse import urlencode

    from botocore import serialize
    from botocore.session import get_session

    operation = get_session().get_service_model("cloudwatch").operation_model("PutMetricData")
    request = serialize.create_serializer("query").serialize_to_request(
        {"Namespace": namespace, "MetricData": data}, operation
    )
    return len(urlencode(request["body"], doseq=True).encode())


def closed_port() -> int:
    """A loopback port that nothing listens on any more."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
