"""The emulator in a child process, as a real endpoint would be: its own interpreter, its own
event loop and GIL, so the harness's CPU use and the emulator's timing do not mix.

The child runs in a session of its own: Ctrl-C at the terminal reaches the harness only (which
then stops the emulator after writing its report), and the child gets an autogroup of its own
whose niceness it can raise without raising the harness's.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import IO, Any

from loadgen.emulator.profiles import EmulatorConfig

_READY = "loadgen emulator listening on "
# The directory that holds the loadgen package, so the child imports this very copy of it.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


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
        startup_timeout: float = 20.0,
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

    def start(self) -> str:
        if self._process is not None:
            return self.url
        self._workdir = tempfile.TemporaryDirectory(prefix="loadgen-emulator-")
        workdir = Path(self._workdir.name)
        config_path = workdir / "config.json"
        config_path.write_text(json.dumps(self.config.model_dump(mode="json")), encoding="utf-8")
        # stderr goes to a file, not a pipe: nobody reads it while the run goes on, and a full
        # pipe would block the emulator in the middle of a response.
        self._stderr = (workdir / "stderr.log").open("w+b")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        command = [sys.executable, "-m", "loadgen.emulator", "--host", self.host]
        command += ["--port", str(self.port), "--config", str(config_path)]
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
