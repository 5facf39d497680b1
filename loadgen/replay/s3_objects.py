"""`s3://bucket/prefix` sources: every object under the prefix, read with the user's own AWS
credential chain (replay.s3.profile, AWS_PROFILE, the environment, SSO, an instance role).

Bedrock delivers its invocation logs under
`<prefix>/AWSLogs/<account>/BedrockModelInvocationLogs/<region>/YYYY/MM/DD/HH/<file>.json.gz`;
any prefix of that works (the whole bucket, one day, one hour). The objects are listed in key
order and read a few at a time; each one's layout is told from its content (layouts.py)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from loadgen.config.replay_spec import S3Access
from loadgen.core.errors import PreflightError
from loadgen.core.redact import redact_text

S3_SCHEME = "s3://"
_READ_AT_ONCE = 8  # objects in flight: enough to hide the round trips, few enough for memory


def is_s3_url(source: str) -> bool:
    return source.startswith(S3_SCHEME)


def split_s3_url(url: str) -> tuple[str, str]:
    """(bucket, prefix) of `s3://bucket/prefix`; ValueError without a bucket."""
    bucket, _, prefix = url[len(S3_SCHEME) :].partition("/")
    if not bucket:
        raise ValueError(f"{url!r}: expected s3://bucket/prefix")
    return bucket, prefix


async def s3_objects(url: str, access: S3Access) -> AsyncIterator[tuple[str, bytes | Exception]]:
    """(s3://bucket/key, its bytes) for each object under the URL's prefix, in key order; an
    object that cannot be read gives the exception instead (the caller counts it). A listing
    that fails (no bucket, no permission, no credentials) raises PreflightError: nothing of
    that source can be replayed."""
    import aioboto3  # a second to import: only when an s3:// source is given
    from botocore.config import Config

    bucket, prefix = split_s3_url(url)
    session = aioboto3.Session(profile_name=access.profile, region_name=access.region)
    config = Config(retries={"total_max_attempts": 3, "mode": "standard"})
    try:
        async with session.client("s3", endpoint_url=access.endpoint_url, config=config) as client:
            keys = await _keys(client, bucket, prefix)
            if not keys:
                raise PreflightError(
                    f"{url}: no object under this prefix; check the bucket and prefix (Bedrock "
                    "writes under <prefix>/AWSLogs/<account>/BedrockModelInvocationLogs/)"
                )

            async def get(key: str) -> bytes | Exception:
                try:
                    response = await client.get_object(Bucket=bucket, Key=key)
                    async with response["Body"] as body:
                        data: bytes = await body.read()
                        return data
                except Exception as exc:  # counted as an unreadable object
                    return exc

            # A few objects ahead of the one handed over, in key order: the round trips
            # overlap, and no more than a few objects are held at once.
            ahead: deque[asyncio.Task[bytes | Exception]] = deque()
            try:
                for index, key in enumerate(keys):
                    while len(ahead) < _READ_AT_ONCE and index + len(ahead) < len(keys):
                        ahead.append(asyncio.ensure_future(get(keys[index + len(ahead)])))
                    yield f"{S3_SCHEME}{bucket}/{key}", await ahead.popleft()
            finally:
                for task in ahead:
                    task.cancel()
    except PreflightError:
        raise
    except Exception as exc:
        reason = redact_text(f"{type(exc).__name__}: {exc}")[:300]
        raise PreflightError(
            f"{url}: cannot list the objects ({reason}). Check the AWS credentials "
            "(replay.s3.profile, AWS_PROFILE), the region and s3:ListBucket/s3:GetObject "
            "permissions on the bucket"
        ) from None


async def _keys(client: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    paginator = client.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(
            item["Key"] for item in page.get("Contents", []) if not item["Key"].endswith("/")
        )
    return sorted(keys)
