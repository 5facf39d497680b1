"""CloudWatch around one run: the sink, the dashboard and alarms put before load, and what
the report says of them. Failures are recorded, never raised: the load test goes on, and
`--require-cloudwatch` turns an incomplete publication into exit code 5 at the end."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from botocore.exceptions import ProfileNotFound

from loadgen.backends.bedrock_client import find_region
from loadgen.cloudwatch.alarms import alarm_period, alarm_requests
from loadgen.cloudwatch.dashboard import dashboard_body, dashboard_name
from loadgen.cloudwatch.setup import (
    CloudWatchError,
    CloudWatchTarget,
    DryRunSession,
    put_alarms,
    put_dashboard,
)
from loadgen.cloudwatch.sink import CloudWatchSink
from loadgen.config.scenario import CloudWatchSpec, Scenario
from loadgen.core.errors import ConfigError
from loadgen.core.report_parts import AlarmsPut, CloudWatchSection, DashboardPut


def cloudwatch_target(
    spec: CloudWatchSpec, default_region: str | None, profile: str | None
) -> CloudWatchTarget:
    """Region: the cloudwatch block's, the target's, the AWS configuration's, us-east-1."""
    target = CloudWatchTarget(
        region=spec.region or default_region,
        profile=spec.profile or profile,
        endpoint_url=spec.endpoint_url,
    )
    if target.region is None:
        try:
            target.session()  # a named profile that does not exist is found here
        except ProfileNotFound:
            raise ConfigError(
                [f"cloudwatch.profile: no AWS profile named {target.profile!r}"]
            ) from None
        found = find_region(target)  # AWS_REGION, AWS_DEFAULT_REGION, the profile's: as Bedrock
        target = replace(target, region=found[0] if found else "us-east-1")
    return target


def make_sink(
    scenario: Scenario, target: CloudWatchTarget, dry_run: TextIO | None
) -> CloudWatchSink:
    spec = scenario.cloudwatch
    return CloudWatchSink(
        scenario=scenario.name,
        namespace=spec.namespace,
        dimensions=spec.dimensions,
        interval_s=spec.interval,
        storage_resolution=spec.storage_resolution,
        session=DryRunSession(dry_run) if dry_run is not None else None,
        region_name=target.region,
        endpoint_url=target.endpoint_url,
        profile_name=target.profile,
    )


@dataclass
class Setup:
    """What was put before load, and what was not."""

    dashboard: DashboardPut | None = None
    alarms: AlarmsPut | None = None
    errors: list[str] = field(default_factory=list)


def dashboard_for(scenario: Scenario, region: str) -> tuple[str, dict[str, Any]]:
    spec = scenario.cloudwatch
    return dashboard_name(scenario.name), dashboard_body(
        scenario=scenario.name,
        models=[m.id for m in scenario.models],
        region=region,
        namespace=spec.namespace,
        dimensions=spec.dimensions,
        period_s=10 if spec.storage_resolution == 1 else 60,
    )


def alarms_for(
    scenario: Scenario, topic: str | None = None
) -> tuple[list[dict[str, Any]], list[Any]]:
    spec = scenario.cloudwatch
    return alarm_requests(
        [check.parsed() for check in scenario.thresholds],
        scenario=scenario.name,
        models=[m.id for m in scenario.models],
        namespace=spec.namespace,
        dimensions=spec.dimensions,
        period_s=alarm_period(spec.interval, spec.storage_resolution),
        topic_arn=topic or spec.alarm_topic,
    )


async def prepare(
    scenario: Scenario, target: CloudWatchTarget, dry_run: TextIO | None, quiet: bool
) -> Setup:
    """Put the dashboard and alarms the scenario asks for; record what failed."""
    spec = scenario.cloudwatch
    setup = Setup()
    if spec.dashboard:
        name, body = dashboard_for(scenario, target.region or "us-east-1")
        setup.dashboard = {"name": name, "put": False}
        try:
            await put_dashboard(target, name, body, dry_run)
            setup.dashboard["put"] = True
        except CloudWatchError as error:
            setup.errors.append(str(error))
    if spec.alarms:
        requests, refused = alarms_for(scenario)
        setup.alarms = {"wanted": len(requests), "put": 0, "refused": [str(r) for r in refused]}
        if not quiet:
            for refusal in refused:
                print(refusal, file=sys.stderr)
        try:
            setup.alarms["put"] = await put_alarms(target, requests, dry_run)
        except CloudWatchError as error:
            setup.errors.append(str(error))
    return setup


def report_section(sink: CloudWatchSink, setup: Setup, dry_run: bool) -> CloudWatchSection:
    """run.cloudwatch of the report: what was published, and what was not."""
    complete = sink.dropped_data == 0 and not setup.errors
    return {
        "published_data": sink.published_data,
        "failed_calls": sink.failed_calls,
        "dropped_data": sink.dropped_data,
        "last_error": sink.last_error,
        "dashboard": setup.dashboard,
        "alarms": setup.alarms,
        "errors": setup.errors,
        "dry_run": dry_run,
        "complete": complete,
    }


def command_target(
    scenario: Scenario,
    *,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    dry_run: bool,
) -> CloudWatchTarget:
    """Where `loadgen dashboard` and `loadgen alarms` send: flags, then the scenario, then
    the AWS configuration (AWS_REGION, the profile's region)."""
    spec = scenario.cloudwatch
    target = CloudWatchTarget(
        region=region or spec.region or scenario.target.region,
        profile=profile or spec.profile or scenario.target.profile,
        endpoint_url=endpoint_url or spec.endpoint_url,
    )
    if target.region is None and not dry_run:
        try:
            target.session()  # a named profile that does not exist is found here
        except ProfileNotFound:
            raise ConfigError([f"no AWS profile named {target.profile!r}"], "--profile") from None
        found = find_region(target)
        if found is None:
            raise ConfigError(
                ["no AWS region: pass --region, set AWS_REGION, or set cloudwatch.region"],
                scenario.name,
            )
        target = replace(target, region=found[0])
    return replace(target, region=target.region or "us-east-1")
