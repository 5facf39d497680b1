"""The emulator child never outlives its parent: a parent killed outright (SIGKILL, or a
SIGTERM it does not handle) leaves no emulator running and no `loadgen-emulator-*` folder.

A small parent process starts EmulatorProcess (from its main thread, where the child also
asks for PR_SET_PDEATHSIG, or from a thread that then ends, where only the child's watch on
its parent's pid can tell) and is killed; every wait polls with a generous deadline.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from loadgen.emulator import EmulatorProcess
from tests.helpers import REPO

PATIENCE_S = 60.0

PARENT = textwrap.dedent(
    """
    import json, sys, threading, time
    from loadgen.emulator import EmulatorProcess

    emulator = EmulatorProcess()
    if sys.argv[1] == "thread":  # the starting thread ends here; the parent lives on
        starter = threading.Thread(target=emulator.start)
        starter.start()
        starter.join()
    else:
        emulator.start()
    print(json.dumps({"pid": emulator.pid, "workdir": str(emulator.workdir), "url": emulator.url}))
    sys.stdout.flush()
    time.sleep(600)
    """
)


def _poll(what: str, check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + PATIENCE_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {PATIENCE_S:.0f} s: {what}")
        time.sleep(0.1)


def _gone(pid: int) -> bool:
    """Exited: no such process, or a zombie nobody has reaped yet (it runs nothing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads /proc")
@pytest.mark.parametrize(
    ("started_from", "signum"),
    [("main", signal.SIGKILL), ("thread", signal.SIGKILL), ("main", signal.SIGTERM)],
)
def test_the_emulator_and_its_folder_go_when_its_parent_is_killed(
    started_from: str, signum: int
) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, started_from],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        started = json.loads(parent.stdout.readline())
        pid, workdir = started["pid"], Path(started["workdir"])
        assert workdir.name.startswith("loadgen-emulator-") and workdir.is_dir()
        # It serves while the parent lives, even once the thread that started it has ended.
        with urllib.request.urlopen(f"{started['url']}/_emulator/stats", timeout=30) as answer:
            assert answer.status == 200
        assert not _gone(pid)
        os.kill(parent.pid, signum)
        parent.wait(timeout=PATIENCE_S)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
    assert parent.returncode == -signum  # killed, so nothing of the parent's cleaned up
    _poll(f"the emulator (pid {pid}) ended", lambda: _gone(pid))
    _poll(f"{workdir} was removed", lambda: not workdir.exists())


def test_a_stopped_emulator_leaves_no_folder_and_stop_does_not_mind_it_gone() -> None:
    emulator = EmulatorProcess()
    emulator.start()
    workdir = emulator.workdir
    assert workdir is not None and (workdir / "config.json").is_file()
    emulator.stop()  # the child removed its folder as it stopped; the parent's cleanup copes
    assert emulator.returncode == 0
    assert not workdir.exists() and emulator.workdir is None
