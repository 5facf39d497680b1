"""Where each sample goes besides the recorder: samples.jsonl always, CloudWatch and EMF lines
when asked. One lifecycle for all of them (k6's outputs): start, add without blocking, stop."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from loadgen.cloudwatch import around_run
from loadgen.cloudwatch.setup import CloudWatchTarget
from loadgen.cloudwatch.sink import CloudWatchSink
from loadgen.config.scenario import Scenario, TargetSpec
from loadgen.core.report_parts import CloudWatchSection
from loadgen.core.sample import Sample
from loadgen.run.options import CloudWatchOutputs
from loadgen.sinks.emf import EmfSink
from loadgen.sinks.jsonl import JsonlSink


class RunSinks:
    def __init__(
        self,
        scenario: Scenario,
        target: TargetSpec,
        outputs: CloudWatchOutputs,
        quiet: bool,
        samples_path: Path,
    ) -> None:
        self._scenario = scenario
        self._target = target
        self._outputs = outputs
        self._quiet = quiet
        self.jsonl = JsonlSink(samples_path)
        self.cloudwatch = _cloudwatch_sink(scenario, target, outputs)
        self.cloudwatch_setup: around_run.Setup | None = None
        self.emf = _emf_sink(scenario, outputs)

    async def start(self) -> None:
        """Open samples.jsonl; put the dashboard and alarms; start publishing."""
        self.jsonl.start()
        if self.cloudwatch is not None:
            self.cloudwatch_setup = await around_run.prepare(
                self._scenario,
                _cloudwatch_target(self._scenario, self._target),
                _dry_run(self._outputs),
                self._quiet,
            )
            await self.cloudwatch.start()
        if self.emf is not None:
            await self.emf.start()

    def add(self, sample: Sample) -> None:
        self.jsonl.add(sample)
        if self.cloudwatch is not None:
            self.cloudwatch.add(sample)
        if self.emf is not None:
            self.emf.add(sample)

    async def stop(self) -> None:
        self.jsonl.stop()
        if self.cloudwatch is not None:
            await self.cloudwatch.stop()  # publishes the last interval, within its own timeout
        if self.emf is not None:
            await self.emf.stop()

    def cloudwatch_section(self) -> CloudWatchSection | None:
        """run.cloudwatch of the report; None when the run did not publish to CloudWatch."""
        if self.cloudwatch is None:
            return None
        return around_run.report_section(
            self.cloudwatch,
            self.cloudwatch_setup or around_run.Setup(),
            self._outputs.dry_run,
        )


def _cloudwatch_target(scenario: Scenario, target: TargetSpec) -> CloudWatchTarget:
    # No region given: the AWS configuration's (AWS_REGION, the profile's), as for Bedrock.
    return around_run.cloudwatch_target(scenario.cloudwatch, target.region, target.profile)


def _dry_run(outputs: CloudWatchOutputs) -> TextIO | None:
    return sys.stdout if outputs.dry_run else None


def _cloudwatch_sink(
    scenario: Scenario, target: TargetSpec, outputs: CloudWatchOutputs
) -> CloudWatchSink | None:
    if not scenario.cloudwatch.enabled:
        return None
    return around_run.make_sink(scenario, _cloudwatch_target(scenario, target), _dry_run(outputs))


def _emf_sink(scenario: Scenario, outputs: CloudWatchOutputs) -> EmfSink | None:
    if outputs.emf is None:
        return None
    spec = scenario.cloudwatch
    return EmfSink(
        outputs.emf,
        scenario=scenario.name,
        namespace=spec.namespace,
        dimensions=spec.dimensions,
        interval_s=spec.interval,
        storage_resolution=spec.storage_resolution,
    )
