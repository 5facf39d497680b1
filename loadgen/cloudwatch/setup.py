"""Calls to CloudWatch outside the metric stream: PutDashboard, PutMetricAlarm, and the
dry run that prints every call (PutMetricData included) instead of making it.

Errors from CloudWatch become `CloudWatchError` (exit code 5), whose message names the call
and the error class and code, never credentials.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

import aioboto3
from botocore.config import Config

from loadgen.cloudwatch.sink import describe_error
from loadgen.core.errors import LoadgenError

EXIT_CLOUDWATCH = 5


class CloudWatchError(LoadgenError):
    """CloudWatch was unreachable or refused a call that was required of it."""

    exit_code = EXIT_CLOUDWATCH


@dataclass(frozen=True)
class CloudWatchTarget:
    """Where CloudWatch calls go: region, named profile, endpoint (moto, a VPC endpoint)."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None

    def session(self) -> Any:
        return aioboto3.Session(profile_name=self.profile, region_name=self.region)


def print_call(out: TextIO, operation: str, params: Mapping[str, Any]) -> None:
    """One JSON line: the operation and its parameters, as they would be sent."""
    out.write(json.dumps({"call": operation, **params}, default=_json_default) + "\n")
    out.flush()


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


class DryRunClient:
    """Stands in for the cloudwatch client: prints each call and accepts it."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def put_metric_data(self, **params: Any) -> dict[str, Any]:
        print_call(self.out, "PutMetricData", params)
        return {}

    async def put_dashboard(self, **params: Any) -> dict[str, Any]:
        print_call(self.out, "PutDashboard", params)
        return {"DashboardValidationMessages": []}

    async def put_metric_alarm(self, **params: Any) -> dict[str, Any]:
        print_call(self.out, "PutMetricAlarm", params)
        return {}

    async def __aenter__(self) -> DryRunClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class DryRunSession:
    """An aioboto3.Session look-alike whose cloudwatch client only prints."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def client(self, *args: object, **kwargs: object) -> DryRunClient:
        return DryRunClient(self.out)


def _client(target: CloudWatchTarget, dry_run: TextIO | None) -> Any:
    if dry_run is not None:
        return DryRunClient(dry_run)
    # Two attempts, short timeouts: a dashboard or alarm lands or is reported, quickly.
    config = Config(
        retries={"total_max_attempts": 2, "mode": "standard"},
        connect_timeout=5,
        read_timeout=10,
    )
    return target.session().client(
        "cloudwatch", region_name=target.region, endpoint_url=target.endpoint_url, config=config
    )


async def put_dashboard(
    target: CloudWatchTarget, name: str, body: Mapping[str, Any], dry_run: TextIO | None = None
) -> list[str]:
    """Put the dashboard; returns CloudWatch's validation messages (empty when all is well)."""
    try:
        async with _client(target, dry_run) as client:
            answer = await client.put_dashboard(DashboardName=name, DashboardBody=json.dumps(body))
    except Exception as error:
        raise CloudWatchError(f"PutDashboard {name} failed: {describe_error(error)}") from None
    return [m.get("Message", "") for m in answer.get("DashboardValidationMessages", [])]


async def put_alarms(
    target: CloudWatchTarget,
    requests: Sequence[Mapping[str, Any]],
    dry_run: TextIO | None = None,
) -> int:
    """Put every alarm; returns how many were put. Stops at the first refusal."""
    put = 0
    try:
        async with _client(target, dry_run) as client:
            for request in requests:
                await client.put_metric_alarm(**request)
                put += 1
    except Exception as error:
        raise CloudWatchError(
            f"PutMetricAlarm failed after {put} of {len(requests)} alarms: {describe_error(error)}"
        ) from None
    return put
