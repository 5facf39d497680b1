"""The emulator in a child process, as a real endpoint would be: its own interpreter, its own
event loop and GIL, so the harness's CPU use and the emulator's timing do not mix.

The child runs in a session of its own: Ctrl-C at the terminal reaches the harness only (which
then stops the emulator after writing its report), and the child gets an autogroup of its own
whose niceness it can raise without raising the harness's.

The child never outlives its parent, whatever ends the parent (SIGKILL included): on Linux,
where the parent started it from its main thread, it asks the kernel for a signal when that
thread ends (PR_SET_PDEATHSIG); otherwise a thread of its own watches its parent's pid. It
then stops cleanly and removes its own temporary folder (config and stderr) on the way out,
the parent being unable to. `child_main` is that wrapper around `python -m loadgen.emulator`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import IO, Any

from loadgen.core.parent_death import set_parent_death_signal
from loadgen.emulator.profiles import EmulatorConfig

_READY = "loadgen emulator listening on "
# The directory that holds the loadgen package, so the child imports this very copy of it.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
# The child's command: the emulator's own entry point, wrapped by child_main (below).
_CHILD_CODE = "from loadgen.emulator.process import child_main; child_main()"
PARENT_POLL_S = 0.25  # how often the child looks whether its parent is still there


class EmulatorStartError(RuntimeError):
    pass


class EmulatorProcess:
    """`with EmulatorProcess(config) as emulator: ... emulator.url` (or `async with`)."""

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 60.0,  # only waited out when it fails: room for a loaded machine
        stop_timeout: float = 5.0,
        log_path: str | Path | None = None,
    ) -> None:
        self.config = config if config is not None else EmulatorConfig()
        self.log_path = log_path  # the emulator's JSONL request log, if wanted
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.returncode: int | None = None  # the child's exit status once stopped
        self._url: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._stderr: IO[bytes] | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the emulator process is not running")
        return self._url

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def workdir(self) -> Path | None:
        """The child's temporary folder (its config and stderr) while it runs."""
        return Path(self._workdir.name) if self._workdir is not None else None

    def start(self) -> str:
        if self._process is not None:
            return self.url
        # The child removes the folder itself when it stops (so that a parent killed outright
        # leaves none behind): here it may already be gone.
        self._workdir = tempfile.TemporaryDirectory(
            prefix="loadgen-emulator-", ignore_cleanup_errors=True
        )
        workdir = Path(self._workdir.name)
        config_path = workdir / "config.json"
        config_path.write_text(json.dumps(self.config.model_dump(mode="json")), encoding="utf-8")
        # stderr goes to a file, not a pipe: nobody reads it while the run goes on, and a full
        # pipe would block the emulator in the middle of a response.
        self._stderr = (workdir / "stderr.log").open("w+b")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        command = [sys.executable, "-c", _CHILD_CODE, "--parent-pid", str(os.getpid())]
        command += ["--workdir", str(workdir)]
        # PR_SET_PDEATHSIG fires when the thread that started the child ends, not the process:
        # asked for only from the main thread (from another one, the child's watch suffices).
        if threading.current_thread() is threading.main_thread():
            command.append("--parent-death-signal")
        command += ["--", "--host", self.host, "--port", str(self.port)]
        command += ["--config", str(config_path)]
        if self.log_path is not None:
            command += ["--log", str(Path(self.log_path).resolve())]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            start_new_session=True,
        )
        try:
            line = self._read_ready_line(time.monotonic() + self.startup_timeout)
        except BaseException:
            self.stop()
            raise
        self._url = line.removeprefix(_READY).strip()
        return self._url

    def _read_ready_line(self, deadline: float) -> str:
        assert self._process is not None and self._process.stdout is not None
        fd = self._process.stdout.fileno()
        received = b""
        while b"\n" not in received:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EmulatorStartError(
                    self._failure(f"did not start in {self.startup_timeout:g} s")
                )
            readable, _, _ = select.select([fd], [], [], remaining)
            if readable:
                chunk = os.read(fd, 4096)
                if not chunk:  # stdout closed: the child has exited
                    self._process.wait(timeout=self.stop_timeout)
                    code = self._process.returncode
                    raise EmulatorStartError(self._failure(f"exited with code {code}"))
                received += chunk
        line = received.split(b"\n", 1)[0].decode("utf-8", "replace")
        if not line.startswith(_READY):
            raise EmulatorStartError(self._failure(f"printed {line!r} instead of its address"))
        return line

    def _failure(self, what: str) -> str:
        stderr = ""
        if self._stderr is not None:
            self._stderr.flush()
            self._stderr.seek(0)
            stderr = self._stderr.read()[-4000:].decode("utf-8", "replace").strip()
        return f"the emulator process {what}" + (f"; its stderr:\n{stderr}" if stderr else "")

    def stop(self) -> None:
        """SIGTERM (the emulator stops cleanly), then SIGKILL if it has not exited in time."""
        process, self._process = self._process, None
        self._url = None
        if process is not None:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=self.stop_timeout)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            self.returncode = process.returncode
            if process.stdout is not None:
                process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> EmulatorProcess:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stats(self) -> dict[str, Any] | None:
        """The emulator's own record (`GET /_emulator/stats`), or None if it cannot answer."""
        try:
            with urllib.request.urlopen(f"{self.url}/_emulator/stats", timeout=5) as response:
                stats: dict[str, Any] = json.load(response)
                return stats
        except OSError:
            return None

    # From async code the blocking start and stop run in a thread, off the event loop.
    async def __aenter__(self) -> EmulatorProcess:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.stop)


def child_main(argv: list[str] | None = None) -> None:
    """The emulator child: `python -m loadgen.emulator`'s main, tied to its parent's life.

    `[--parent-pid PID] [--workdir DIR] [--parent-death-signal] -- EMULATOR ARGS`: the child
    stops (as on Ctrl-C: cleanly) once PID is no longer its parent, and removes DIR when it
    exits, however it was stopped short of SIGKILL.

    The parent's death arrives as a SIGINT, whether from the kernel (PR_SET_PDEATHSIG) or from
    the watch thread: the server stops cleanly on it, and where the server's own handler is
    not (yet, or any more) installed, Python's raises KeyboardInterrupt, which unwinds
    through the `finally` below. (A SIGTERM there would take the default action once the
    event loop has put it back, ending the process before the folder is removed.)
    """
    from loadgen.emulator.__main__ import main as emulator_main

    args = list(sys.argv[1:] if argv is None else argv)
    split = args.index("--") if "--" in args else len(args)
    parser = argparse.ArgumentParser(prog="loadgen emulator child")
    parser.add_argument("--parent-pid", type=int)
    parser.add_argument("--workdir")
    parser.add_argument("--parent-death-signal", action="store_true")
    own = parser.parse_args(args[:split])
    # Until the server installs its own handlers (a clean stop), both signals unwind through
    # the `finally`; SIGINT even if the parent started this process with it ignored.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        if own.parent_pid is not None:
            armed = own.parent_death_signal and set_parent_death_signal(signal.SIGINT)
            if os.getppid() != own.parent_pid:
                return  # the parent is already gone: nobody will use this emulator
            if not armed:  # one notice of the death, not two: the kernel's, or the watch's
                watch = threading.Thread(
                    target=_watch_parent, args=(own.parent_pid,), name="parent-watch", daemon=True
                )
                watch.start()
        emulator_main(args[split + 1 :])
    except KeyboardInterrupt:
        raise SystemExit(128 + signal.SIGINT) from None
    finally:
        # Nothing interrupts the clean-up: the process is ending anyway.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, signal.SIG_IGN)
        if own.workdir is not None:
            shutil.rmtree(own.workdir, ignore_errors=True)


def _watch_parent(parent_pid: int) -> None:
    """A daemon thread of the child: SIGINT to itself once its parent is gone (the child is
    then re-parented, so its parent pid changes)."""
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_S)
    os.kill(os.getpid(), signal.SIGINT)


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)
