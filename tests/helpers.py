"""Paths and runners the tests share, the same from any folder of tests/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from aiohttp import web
    from playwright.sync_api import Browser, Page

    from loadgen.engine.backend import Backend

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
GOLDEN_DIR = TESTS / "golden"  # pinned shapes: tests/golden/report_shape.json


def loadgen(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    """`python -m loadgen.cli ARGS` from the repository root, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "loadgen.cli", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def make(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`make ARGS` in the repository, with the venv as it is: `-o` keeps the install step
    (its stamp older than pyproject.toml while the project is edited) from running again."""
    return subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.installed", *args],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "BEDROCK")},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def serialized_size(namespace: str, data: list[Any]) -> int:
    """What botocore really sends for these CloudWatch data: PutMetricData's form body."""
    from urllib.parse import urlencode

    from botocore import serialize
    from botocore.session import get_session

    operation = get_session().get_service_model("cloudwatch").operation_model("PutMetricData")
    request = serialize.create_serializer("query").serialize_to_request(
        {"Namespace": namespace, "MetricData": data}, operation
    )
    return len(urlencode(request["body"], doseq=True).encode())


def closed_port() -> int:
    """A loopback port that nothing listens on any more."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# report.html and its kin in a real browser: Debian's Chromium, driven by Playwright.
CHROMIUM = Path("/usr/bin/chromium")
# Network off: no proxy reachable, every host name unresolvable, no background traffic.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--proxy-server=127.0.0.1:9",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed: `make install` as root installs it",
)


@contextmanager
def offline_chromium() -> Iterator[Browser]:
    """Headless Chromium with the network off (CHROMIUM_FLAGS), closed on the way out."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=CHROMIUM_FLAGS,
            ignore_default_args=["--headless=old"],
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def offline_page(browser: Browser, width: int, height: int = 900) -> Iterator[Page]:
    """A page of a new offline context `width` px wide; the context is closed on the way out."""
    context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
    try:
        yield context.new_page()
    finally:
        context.close()


# An OpenAI-compatible server a test writes (a bare aiohttp app on loopback), and the whole
# chat completion such a server answers "ok" with.
CHAT_OK = {
    "choices": [{"message": {"content": "ok"}, "finish_reason": "length"}],
    "usage": {"prompt_tokens": 7, "completion_tokens": 1},
}


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """`app` on a free loopback port for the block: its URL, http://127.0.0.1:PORT."""
    from aiohttp import web

    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def chat_server(
    chat: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[str]:
    """A server whose POST /v1/chat/completions is `chat`: its base URL, http://.../v1."""
    from aiohttp import web

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    async with serving(app) as url:
        yield f"{url}/v1"


@asynccontextmanager
async def started(backend: Backend) -> AsyncIterator[Backend]:
    """`backend` started for the block, closed after it whatever happens."""
    await backend.start()
    try:
        yield backend
    finally:
        await backend.close()


@contextmanager
def interrupt_when(ready: Callable[[], bool], deadline_s: float = 120.0) -> Iterator[None]:
    """Send this process SIGINT once `ready()` says the run is under way (polled every 0.1 s),
    never on a fixed timer: on a loaded machine a run can take many seconds to start, and a
    signal before its handler is installed would end the whole pytest session. No signal after
    the block has ended, or when `ready` never came true within deadline_s."""
    import signal
    import threading
    import time

    done = threading.Event()

    def watch() -> None:
        end = time.monotonic() + deadline_s
        while not done.wait(0.1) and time.monotonic() < end:
            if ready():
                if not done.is_set():
                    os.kill(os.getpid(), signal.SIGINT)
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
