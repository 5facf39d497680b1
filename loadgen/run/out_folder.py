"""A run's output folder: made and checked writable, refused when it already holds a run
(unless --force), and locked while a run writes it, so that two runs never write one folder.

The lock is flock(2) on `<folder>/.loadgen.lock`, taken without waiting and kept open until
the process ends: the kernel releases it when the process ends, however it ends (SIGKILL, a
crash), so a lock never outlives its run. The file holds the pid of the run that holds it,
for the message the next run prints. Locks are per folder and per process: a `--workers` run's
parent holds its folder's, each worker the one of its own `workers/<k>/`, a sweep its top
folder's and each stage its stage folder's. Taking a folder this process already holds is a
no-op, so callers (the command, then `prepare_out_dir` in the run) need not pass the lock on.
"""

from __future__ import annotations

import errno
import itertools
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from loadgen.core.errors import PreflightError

if sys.platform != "win32":
    import fcntl

LOCK_FILE = ".loadgen.lock"
# What a run, a --workers run's parts or a sweep leave in their folder, where they leave it.
RUN_FILES = ("report.json", "samples.jsonl", "sweep.json")
PART_FOLDERS = ("workers/*", "*/rate-*")

# Resolved folder -> the open descriptor of its lock: open (so held) until the process ends.
_held: dict[Path, int] = {}


def claim_out_dir(out_dir: Path, *, force: bool) -> Path:
    """An --out folder given by the user: made, locked for this process, and refused if it
    already holds a run, unless `force` (then the run writes over its files)."""
    make_writable(out_dir)
    lock_out_dir(out_dir)
    found = previous_run(out_dir)
    if found is not None and not force:
        raise PreflightError(
            f"{out_dir} already holds a run ({found}); pass --force to overwrite it, or --out "
            "a new folder"
        )
    return out_dir


def open_out_dir(out_dir: Path | None, stem: str) -> Path:
    """The folder a run writes (made, writable, locked): `out_dir`, or a new folder
    `reports/<stem>-<UTC time>` (`-2`, `-3`... when one of that name is already there)."""
    folder = new_out_dir(Path("reports"), stem) if out_dir is None else make_writable(out_dir)
    lock_out_dir(folder)
    return folder


def new_out_dir(parent: Path, stem: str) -> Path:
    """A folder that did not exist, `parent/<stem>-<UTC time>[-n]`: made here, so no other
    run can have taken it in the meantime."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for n in itertools.count(1):
        folder = parent / (f"{stem}-{stamp}" if n == 1 else f"{stem}-{stamp}-{n}")
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            continue
        except OSError as exc:
            raise _not_writable(folder, exc) from None
        return make_writable(folder)
    raise AssertionError("unreachable")  # pragma: no cover


def make_writable(folder: Path) -> Path:
    """`folder`, made if missing; a clear error when it cannot be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise _not_writable(folder, exc) from None
    return folder


def lock_out_dir(folder: Path) -> None:
    """Lock `folder` for the rest of this process's life; another run holding it is an error
    that names its pid. Where the file system has no locks, the run goes on unlocked."""
    key = folder.resolve()
    if key in _held or sys.platform == "win32":
        return
    path = folder / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited by child processes
    except OSError as exc:
        raise _not_writable(folder, exc) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            holder = holder_pid(folder)
            who = f"pid {holder}" if holder is not None else "its pid unknown"
            raise PreflightError(
                f"{folder} is being written by another loadgen run ({who}); wait for it to "
                "end (or stop it), or --out a new folder"
            ) from None
        return  # no locks on this file system (some network mounts): run unlocked
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    _held[key] = fd


def release_out_dir(folder: Path) -> None:
    """Let other runs write `folder` before this process ends (a long-lived process that runs
    one run after another through the library); the lock file stays, unlocked."""
    fd = _held.pop(folder.resolve(), None)
    if fd is not None:
        os.close(fd)  # closing the only descriptor of the lock releases it


def holder_pid(folder: Path) -> int | None:
    """The pid written in `folder`'s lock file by the run that holds (or held) it."""
    try:
        return int((folder / LOCK_FILE).read_text(encoding="utf-8").split()[0])
    except (OSError, ValueError, IndexError):
        return None


def previous_run(folder: Path) -> str | None:
    """The first file of an earlier run found in `folder` (relative to it), or None: a run's
    report.json or samples.jsonl, a sweep's sweep.json, or those of a --workers run's
    workers/<k>/ or a sweep's <model>/rate-<R>/ left by a run that stopped before its own."""
    for pattern in ("", *PART_FOLDERS):
        parts = sorted(folder.glob(pattern)) if pattern else [folder]
        for part in parts:
            for name in RUN_FILES:
                if (part / name).is_file():
                    return (part / name).relative_to(folder).as_posix()
    return None


def _not_writable(folder: Path, exc: OSError) -> PreflightError:
    reason = exc.strerror or str(exc)
    return PreflightError(f"cannot write to the output folder {folder}: {reason}; pass --out DIR")
