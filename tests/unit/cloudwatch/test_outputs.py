"""CloudWatch outputs without a run: many models batched within CloudWatch's limits, and the run
command's CloudWatch flags checked before anything runs. The emulated runs themselves:
tests/e2e/test_cloudwatch_outputs.py."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any


class RecordingClient:
    """put_metric_data that keeps every call, as botocore would serialise it."""

    def __init__(self) -> None:
        self.calls: list[list[dict[str, Any]]] = []

    async def put_metric_data(self, **params: Any) -> None:
        self.calls.append(params["MetricData"])

    async def __aenter__(self) -> RecordingClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class RecordingSession:
    def __init__(self) -> None:
        self.recorder = RecordingClient()

    def client(self, *args: object, **kwargs: object) -> RecordingClient:
        return self.recorder


async def test_many_models_are_batched_within_cloudwatch_limits() -> None:
    from loadgen.cloudwatch.sink import CloudWatchSink
    from loadgen.cloudwatch.values import estimate_call_overhead, estimate_datum_bytes
    from tests.factories import make_mixed_samples
    from tests.helpers import serialized_size

    session = RecordingSession()
    sink = CloudWatchSink(
        scenario="wide",
        interval_s=60,
        session=session,
        dimensions={f"D{i}": "x" * 200 for i in range(28)},  # the most dimensions allowed
    )
    await sink.start()
    samples = [s for s in make_mixed_samples() if not s.warmup]
    models = [f"model-{i:03d}" for i in range(60)]  # 60 x 19 data, about 25 KB each
    for model in models:
        for sample in samples[:30]:
            sink.add(replace(sample, model=model))
    await sink.stop()
    calls = session.recorder.calls
    assert sink.published_data == sink.produced_data == sum(map(len, calls))
    assert len(calls) > 1
    sizes = []
    for data in calls:
        assert len(data) <= 1000
        # The estimate is an upper bound of the body (tests/unit/cloudwatch/test_cloudwatch.py
        # checks it).
        size = estimate_call_overhead("LLM/LoadTest") + sum(map(estimate_datum_bytes, data))
        assert size <= 1_000_000
        sizes.append((size, data))
    for _, data in sorted(sizes, key=lambda pair: pair[0])[
        -2:
    ]:  # botocore is slow: the two fullest
        assert serialized_size("LLM/LoadTest", data) <= 1_000_000
    published = {d["Dimensions"][0]["Value"] for data in calls for d in data}
    assert published == set(models)


def test_run_flags_reach_the_cloudwatch_block(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from loadgen.cli import main
    from loadgen.commands.demo import demo_scenario
    from loadgen.config.scenario import load_scenario

    # The demo's scenario is valid and has thresholds to make alarms of.
    demo = load_scenario(demo_scenario(tmp_path))
    assert demo.thresholds and demo.dataset.path and Path(demo.dataset.path).is_absolute()
    # A bad value is named by its flag; nothing runs.
    result = CliRunner().invoke(
        main, ["run", str(demo_scenario(tmp_path)), "--emulate", "--cloudwatch-interval", "0s"]
    )
    assert result.exit_code == 2
    assert "--cloudwatch-interval" in result.output
    result = CliRunner().invoke(
        main, ["run", str(demo_scenario(tmp_path)), "--emulate", "--sns-topic", "not-an-arn"]
    )
    assert result.exit_code == 2 and "--sns-topic" in result.output
