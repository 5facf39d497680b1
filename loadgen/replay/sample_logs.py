"""Synthetic Bedrock model invocation logs, for tests and docs: never real traffic.

Records as Bedrock writes them (schemaType ModelInvocationLog, schemaVersion 1.0; timestamps
to the second), gzipped JSON Lines in Bedrock's S3 key layout
`AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/<time>_<id>.json.gz`, one
object per minute of calls. Every figure is drawn from a seed, so a test knows each call's
instant, model, operation and token counts. `python -m loadgen.replay.sample_logs --help`.

    python -m loadgen.replay.sample_logs examples/replay/logs --seconds 30 --rate 2
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"  # AWS's documentation account id: obviously not a real one
REGION = "us-east-1"
START = datetime(2025, 6, 3, 14, 0, 0, tzinfo=UTC)  # a Tuesday afternoon
MODELS = ("amazon.nova-lite-v1:0", "anthropic.claude-3-haiku-20240307-v1:0")
OPERATIONS = ("ConverseStream", "Converse", "InvokeModel", "InvokeModelWithResponseStream")


@dataclass(frozen=True)
class SampleShape:
    seconds: int = 30  # calls over this many seconds from START
    rate: float = 2.0  # mean calls per second (Poisson counts per second)
    seed: int = 1
    models: Sequence[str] = MODELS
    operations: Sequence[str] = ("ConverseStream", "Converse")
    bodies: bool = False  # log the request text (text logging on)
    start: datetime = START
    input_median: int = 400  # token counts: lognormal around these medians
    output_median: int = 120


def sample_records(shape: SampleShape) -> list[dict[str, Any]]:
    """The records, in time order: each second's count drawn from Poisson(rate), each call's
    model, operation and token counts from the seed."""
    rng = random.Random(shape.seed)
    records: list[dict[str, Any]] = []
    for second in range(shape.seconds):
        for _ in range(_poisson(rng, shape.rate)):
            records.append(_record(rng, shape, shape.start + timedelta(seconds=second)))
    return records


def _record(rng: random.Random, shape: SampleShape, moment: datetime) -> dict[str, Any]:
    model = rng.choice(list(shape.models))
    operation = rng.choice(list(shape.operations))
    input_tokens = max(1, round(rng.lognormvariate(math.log(shape.input_median), 0.6)))
    output_tokens = max(1, round(rng.lognormvariate(math.log(shape.output_median), 0.5)))
    latency_ms = 300 + output_tokens * 12 + rng.randint(0, 200)
    text = " ".join(rng.choice(_WORDS) for _ in range(max(1, input_tokens * 3 // 4)))
    body: dict[str, Any] = {
        "messages": [{"role": "user", "content": [{"text": text}]}],
        "inferenceConfig": {"maxTokens": output_tokens + 50},
    }
    record: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "accountId": ACCOUNT,
        "identity": {"arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/example/session"},
        "region": REGION,
        "requestId": f"{rng.getrandbits(128):032x}",
        "operation": operation,
        "modelId": model,
        "input": {
            "inputContentType": "application/json",
            **({"inputBodyJson": body} if shape.bodies else {}),
            "inputTokenCount": input_tokens,
        },
        "output": {
            "outputContentType": "application/json",
            "outputBodyJson": {
                "stopReason": "end_turn",
                "metrics": {"latencyMs": latency_ms},
                "usage": {
                    "inputTokens": input_tokens,
                    "outputTokens": output_tokens,
                    "totalTokens": input_tokens + output_tokens,
                },
            },
            "outputTokenCount": output_tokens,
        },
    }
    return record


def write_s3_layout(
    records: list[dict[str, Any]], folder: Path, *, region: str = REGION
) -> list[Path]:
    """Gzipped JSON Lines under Bedrock's key layout, one object per minute of calls."""
    by_minute: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_minute.setdefault(record["timestamp"][:16], []).append(record)
    written = []
    for minute, members in sorted(by_minute.items()):
        moment = datetime.strptime(minute, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
        # Delivered about a minute after its calls, as Bedrock's objects are.
        delivered = moment + timedelta(minutes=1, seconds=3)
        key = (
            f"AWSLogs/{ACCOUNT}/BedrockModelInvocationLogs/{region}/"
            f"{moment:%Y/%m/%d/%H}/{delivered:%Y%m%dT%H%M%S}000Z_{zlib.crc32(minute.encode()):08x}"
            ".json.gz"
        )
        path = folder / key
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in members)
        # mtime 0: the same records give the same bytes.
        path.write_bytes(gzip.compress(lines.encode(), mtime=0))
        written.append(path)
    return written


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means of a sample."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


_WORDS = (
    "summarise", "the", "quarterly", "report", "for", "our", "team", "and", "list", "risks",
    "customer", "asked", "about", "billing", "please", "draft", "a", "reply", "with", "steps",
)  # fmt: skip


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="where the AWSLogs/ tree is written")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--rate", type=float, default=2.0, help="mean calls per second")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bodies", action="store_true", help="log the request text too")
    args = parser.parse_args(argv)
    shape = SampleShape(seconds=args.seconds, rate=args.rate, seed=args.seed, bodies=args.bodies)
    for path in write_s3_layout(sample_records(shape), args.folder):
        print(path)


if __name__ == "__main__":
    main()
