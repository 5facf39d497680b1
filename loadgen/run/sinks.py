"""Where each sample goes besides the recorder: samples.jsonl always, CloudWatch and EMF lines
when asked. One lifecycle for all of them (k6's outputs): start, add without blocking, stop."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from loadgen.cloudwatch import around_run
from loadgen.cloudwatch.setup import CloudWatchTarget
from loadgen.cloudwatch.sink import CloudWatchSink
from loadgen.config.scenario import Scenario, TargetSpec
from loadgen.core.errors import ConfigError, OutputError
from loadgen.core.report_parts import CloudWatchSection
from loadgen.core.sample import LineFormat, Sample
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
        on_failure: Callable[[str], None] | None = None,
        line_format: LineFormat | None = None,
    ) -> None:
        self._scenario = scenario
        self._target = target
        self._outputs = outputs
        self._quiet = quiet
        # A failed write in either file sink is told to on_failure: the run stops sending.
        self.jsonl = JsonlSink(samples_path, on_failure, line_format)
        self.cloudwatch = _cloudwatch_sink(scenario, target, outputs)
        self.cloudwatch_setup: around_run.Setup | None = None
        self.emf = _emf_sink(scenario, outputs, on_failure)

    async def start(self) -> None:
        """Open samples.jsonl; put the dashboard and alarms; start publishing."""
        try:
            self.jsonl.start()
        except OSError as exc:
            raise OutputError(
                f"{self.jsonl.path} cannot be written ({exc.strerror or exc}); check that the "
                "output folder exists and is writable, or give another --out"
            ) from None
        if self.cloudwatch is not None:
            self.cloudwatch_setup = await around_run.prepare(
                self._scenario,
                _cloudwatch_target(self._scenario, self._target),
                _dry_run(self._outputs),
                self._quiet,
            )
            await self.cloudwatch.start()
        if self.emf is not None:
            try:
                await self.emf.start()
            except OSError as exc:
                raise OutputError(
                    f"--emf {self.emf.target}: cannot be written ({exc.strerror or exc})"
                ) from None

    def add(self, sample: Sample) -> None:
        self.jsonl.add(sample)
        if self.cloudwatch is not None:
            self.cloudwatch.add(sample)
        if self.emf is not None:
            self.emf.add(sample)

    async def stop(self) -> None:
        """Close samples.jsonl; publish and write the last interval (a stop may cut this
        short: then `abandon` closes what is left)."""
        self.jsonl.stop()
        if self.cloudwatch is not None:
            await self.cloudwatch.stop()  # publishes the last interval, within its own timeout
        if self.emf is not None:
            await self.emf.stop()

    def abandon(self) -> None:
        """After a stop that was cut short: close samples.jsonl if still open. The CloudWatch
        and EMF tasks were cancelled with it; their last interval is what is lost."""
        self.jsonl.stop()

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


def _emf_sink(
    scenario: Scenario, outputs: CloudWatchOutputs, on_failure: Callable[[str], None] | None
) -> EmfSink | None:
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
        on_failure=on_failure,
    )


def check_output_targets(out_dir: Path, emf: str | None) -> None:
    """Before anything is sent: the output folder takes a file, and an --emf file can be
    created. Found now, a mistake costs nothing; found after load, it costs the run."""
    probe = out_dir / ".loadgen-write-check"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise OutputError(
            f"{out_dir}: cannot write there ({exc.strerror or exc}); give a writable --out"
        ) from None
    if emf is None or emf == "-":
        return
    folder = Path(emf).parent
    if not folder.is_dir():
        raise ConfigError(
            [f"--emf {emf}: the folder {folder} does not exist; create it or give another path"]
        )
    if Path(emf).is_dir():
        raise ConfigError([f"--emf {emf}: that is a folder; give a file path, or - for stdout"])
    if not os.access(folder, os.W_OK):
        raise OutputError(f"--emf {emf}: the folder {folder} is not writable")
