"""`make demo`: the demo scenario against the built-in emulator, publishing to a local
CloudWatch (moto in server mode), then what landed there, read back.

Needs the dev extra (moto[server], boto3): `make demo` installs it. Nothing leaves the
machine: Bedrock is the emulator, CloudWatch is moto on 127.0.0.1, credentials are dummies.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "email_summary.yaml"
NAMESPACE = "LLM/LoadTest"
REGION = "us-east-1"
# Generous on purpose: the demo shows alarms being made, not a failing run.
DEMO_THRESHOLDS = ["ttft.p99 < 5s", "error_rate < 20%", "cost_per_hour < 100"]
RUN_FLAGS = ["--rps", "5", "--duration", "15s", "--emulate", "--cloudwatch-interval", "5s"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with code {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"moto_server did not listen on port {port} within {timeout_s:.0f} s")


def demo_scenario(folder: Path) -> Path:
    """The demo scenario with thresholds (to become alarms), its dataset path made absolute."""
    data: dict[str, Any] = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))
    data["dataset"]["path"] = str((SCENARIO.parent / data["dataset"]["path"]).resolve())
    data.setdefault("thresholds", DEMO_THRESHOLDS)
    path = folder / SCENARIO.name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def read_back(endpoint: str, models: list[str], console: Console) -> None:
    import boto3  # the dev extra's (make demo installs it); only the read-back needs it

    client = boto3.client("cloudwatch", endpoint_url=endpoint, region_name=REGION)
    try:
        pages = client.get_paginator("list_metrics").paginate(Namespace=NAMESPACE)
        # moto lists a metric once per data point put; count the distinct ones.
        listed = {
            (m["MetricName"], tuple(sorted((d["Name"], d["Value"]) for d in m["Dimensions"])))
            for page in pages
            for m in page["Metrics"]
        }
        now = datetime.now(UTC)
        table = Table(title=f"What landed in CloudWatch ({endpoint}, namespace {NAMESPACE})")
        for column in ("model", "Requests", "Successes", "Throttles", "OutputTokens", "TTFT n"):
            table.add_column(column, justify="left" if column == "model" else "right")
        table.add_column("TTFT mean ms", justify="right")
        for model in models:
            dims = [
                {"Name": "Model", "Value": model},
                {"Name": "Scenario", "Value": "email_summary"},
            ]

            def stat(name: str, statistic: str, dims: list[dict[str, str]] = dims) -> float:
                points = client.get_metric_statistics(
                    Namespace=NAMESPACE,
                    MetricName=name,
                    Dimensions=dims,
                    StartTime=now - timedelta(hours=1),
                    EndTime=now + timedelta(minutes=5),
                    Period=3600,
                    Statistics=[statistic],
                )["Datapoints"]
                return float(sum(p[statistic] for p in points))

            ttft_n = stat("TTFT", "SampleCount")
            ttft_sum = stat("TTFT", "Sum")
            table.add_row(
                model,
                *(f"{stat(n, 'Sum'):,.0f}" for n in ("Requests", "Successes", "Throttles")),
                f"{stat('OutputTokens', 'Sum'):,.0f}",
                f"{ttft_n:,.0f}",
                f"{ttft_sum / ttft_n:,.1f}" if ttft_n else "-",
            )
        console.print(table)
        dashboards = [d["DashboardName"] for d in client.list_dashboards()["DashboardEntries"]]
        alarms = client.describe_alarms(AlarmNamePrefix="loadgen ")["MetricAlarms"]
        console.print(
            f"{len(listed)} distinct metrics; dashboards: {', '.join(dashboards) or 'none'}; "
            f"{len(alarms)} alarms, e.g. {alarms[0]['AlarmName'] if alarms else '-'}"
        )
    finally:
        client.close()


def main() -> int:
    console = Console(width=None if sys.stdout.isatty() else 160)
    moto_server = Path(sys.executable).parent / "moto_server"
    if not moto_server.exists():
        console.print("moto_server is missing: run `make install` (the dev extra has it)")
        return 2
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        # Dummies: the demo's CloudWatch is moto, and must never reach a real account.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_SESSION_TOKEN", None)
    moto = subprocess.Popen(
        [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        wait_for_port(port, moto)
        console.print(f"local CloudWatch (moto) at {endpoint}")
        with tempfile.TemporaryDirectory() as folder:
            scenario = demo_scenario(Path(folder))
            flags = [*RUN_FLAGS, "--cloudwatch-endpoint-url", endpoint, "--dashboard", "--alarms"]
            loadgen = Path(sys.executable).parent / "loadgen"
            code = subprocess.run([str(loadgen), "run", str(scenario), *flags], env=env).returncode
        models = yaml.safe_load(SCENARIO.read_text(encoding="utf-8"))["models"]
        os.environ.update({k: env[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")})
        read_back(endpoint, models, console)
        return code
    finally:
        # Always stopped, even when the run or the read-back failed.
        moto.terminate()
        try:
            moto.wait(timeout=5)
        except subprocess.TimeoutExpired:
            moto.kill()
            moto.wait()


if __name__ == "__main__":
    sys.exit(main())
