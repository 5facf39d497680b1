"""Every source of a replay read into records: files, folders (every file under them, in path
order; hidden files left out) and `s3://` prefixes. What is not read is counted, never
dropped in silence (records.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from loadgen.config.replay_spec import S3Access
from loadgen.core.errors import ConfigError
from loadgen.replay.layouts import read_file
from loadgen.replay.read_result import ReadResult
from loadgen.replay.s3_objects import is_s3_url, s3_objects


async def read_sources(sources: list[str], base_dir: Path, s3: S3Access) -> ReadResult:
    """Read each source in turn. A local path is relative to base_dir (the scenario's folder);
    a path that does not exist is a ConfigError naming it."""
    missing = [
        source for source in sources if not is_s3_url(source) and not (base_dir / source).exists()
    ]
    if missing:
        raise ConfigError(
            [f"replay.source: {source}: no such file or folder" for source in missing]
        )
    result = ReadResult()
    for source in sources:
        files = s3_objects(source, s3) if is_s3_url(source) else _local_files(base_dir / source)
        async for name, data in files:
            result.files += 1
            if isinstance(data, Exception):
                result.skips.file("unreadable", name, f"{type(data).__name__}: {data}"[:200])
                continue
            read = read_file(name, data, result.skips)
            if read.layout is not None:
                result.layouts[read.layout] += len(read.records)
                result.records.extend(read.records)
    return result


async def _local_files(path: Path) -> AsyncIterator[tuple[str, bytes | Exception]]:
    """(path, bytes) of the file, or of every regular file under the folder in path order."""
    if path.is_dir():
        found = sorted(
            candidate
            for candidate in path.rglob("*")
            if candidate.is_file()
            and not any(part.startswith(".") for part in candidate.relative_to(path).parts)
        )
    else:
        found = [path]
    for file in found:
        try:
            yield str(file), file.read_bytes()
        except OSError as exc:
            yield str(file), exc
