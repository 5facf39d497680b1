"""AWS conventions through loadgen's own run: the region from AWS_REGION reaches the wire (the
SigV4 scope), and credentials a server echoes back reach neither report.json, samples.jsonl nor
a message, through the real credential chain and the real backends. A bare aiohttp server on
loopback plays a gateway that echoes what it was sent (the emulator echoes nothing)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from aiohttp import web
from rich.console import Console

from loadgen.core.errors import PreflightError
from loadgen.core.redact import forget_secrets
from loadgen.run import RunOptions, run_async
from tests.conftest import FAKE_KEY_ID, FAKE_SECRET, ScenarioFactory
from tests.helpers import loadgen

SESSION_TOKEN = "FakeSessionTokenForTests/abcdefghijklmnopqrstuvwxyz0123456789+=="
API_KEY = "loadgen-e2e-key/with+chars=0123456789"


def forms(value: str) -> list[str]:
    return [value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]]


def assert_nothing_of(texts: list[str], *secrets: str) -> None:
    for text in texts:
        for secret in secrets:
            for form in forms(secret):
                assert form not in text, f"{form[:8]}... leaked"


@pytest.fixture(autouse=True)
def empty_registry() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


class Gateway:
    """Answers every POST with an error that echoes the credentials it was sent."""

    def __init__(self, status: int, code: str) -> None:
        self.status = status
        self.code = code
        self.authorizations: list[str] = []
        self.url = ""

    async def answer(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        self.authorizations.append(auth)
        token = request.headers.get("X-Amz-Security-Token", "")
        key = auth.removeprefix("Bearer ")
        echo = (
            f"denied (token={quote(token, safe='')}, key={quote(key, safe='')}, "
            f"secret {FAKE_SECRET}); you sent Authorization: {auth}"
        )
        if request.path.endswith("/chat/completions"):  # OpenAI's error shape
            body = {"error": {"message": echo, "code": self.code}}
            return web.json_response(body, status=self.status)
        return web.json_response(
            {"message": echo}, status=self.status, headers={"x-amzn-ErrorType": self.code}
        )


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    server = Gateway(403, "UnrecognizedClientException")
    app = web.Application()
    app.router.add_post("/{tail:.*}", server.answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        yield server
    finally:
        await runner.cleanup()


def options(out: Path, *, preflight: bool = False) -> RunOptions:
    return RunOptions(
        out_dir=out, quiet=True, console=Console(quiet=True), preflight=preflight, html=False
    )


def outputs(out: Path) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    report_text = (out / "report.json").read_text()
    samples_text = (out / "samples.jsonl").read_text()
    samples = [json.loads(line) for line in samples_text.splitlines() if line]
    return json.loads(report_text), samples, [report_text, samples_text]


@pytest.mark.parametrize("request_path", ["signed", "sdk"])
async def test_aws_region_signs_and_echoed_credentials_are_never_written(
    request_path: str,
    gateway: Gateway,
    aws_env: dict[str, str],
    make_scenario: ScenarioFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    monkeypatch.setenv("AWS_REGION", "eu-west-3")  # aws_env's AWS_DEFAULT_REGION: us-east-1
    scenario = make_scenario(
        target={"endpoint_url": gateway.url, "request_path": request_path},
        load={"rate": 20, "requests": 4},
    )
    await run_async(scenario, options(tmp_path))

    # AWS_REGION won over AWS_DEFAULT_REGION, on the wire: every request was signed for it.
    assert len(gateway.authorizations) == 4
    for auth in gateway.authorizations:
        assert "/eu-west-3/bedrock/aws4_request" in auth, auth

    report, samples, texts = outputs(tmp_path)
    model = report["models"]["fixed-model"]["requests"]
    assert model["errors"]["client"] == 4
    assert model["error_codes"] == {"UnrecognizedClientException": 4}
    messages = [s["error_message"] for s in samples]
    assert all("denied (token=" in m and "[redacted]" in m for m in messages), messages
    assert_nothing_of(texts, FAKE_KEY_ID, FAKE_SECRET, SESSION_TOKEN)


async def test_the_preflight_message_is_redacted_too(
    gateway: Gateway,
    aws_env: dict[str, str],
    make_scenario: ScenarioFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # A ValidationException's message is quoted in the preflight's error.
    gateway.status, gateway.code = 400, "ValidationException"
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    scenario = make_scenario(target={"endpoint_url": gateway.url})
    with pytest.raises(PreflightError) as caught:
        await run_async(scenario, options(tmp_path, preflight=True))
    message = str(caught.value)
    assert "fixed-model: not usable here (ValidationException: " in message
    assert "[redacted]" in message
    assert_nothing_of([message], FAKE_KEY_ID, FAKE_SECRET, SESSION_TOKEN)


async def test_an_openai_key_echoed_back_is_never_written(
    gateway: Gateway,
    make_scenario: ScenarioFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    gateway.status, gateway.code = 401, f"invalid_api_key:{API_KEY}"
    monkeypatch.setenv("LOADGEN_E2E_KEY", API_KEY)
    scenario = make_scenario(
        target={
            "api": "openai-chat-nostream",
            "endpoint_url": f"{gateway.url}/v1",
            "api_key_env": "LOADGEN_E2E_KEY",
        },
        load={"rate": 20, "requests": 3},
    )
    await run_async(scenario, options(tmp_path))
    assert gateway.authorizations == [f"Bearer {API_KEY}"] * 3  # sent, as it must be
    report, samples, texts = outputs(tmp_path)
    assert report["models"]["fixed-model"]["requests"]["errors"]["client"] == 3
    assert all("[redacted]" in s["error_message"] for s in samples)
    assert_nothing_of(texts, API_KEY)


def test_a_url_with_credentials_exits_2_without_echoing_them(tmp_path: Path) -> None:
    password = "hunter2-e2e-not-real"
    completed = loadgen(
        "run",
        "scenarios/email_summary.yaml",
        "--endpoint-url",
        f"https://alice:{password}@gw.example.com",
        "--out",
        str(tmp_path),
    )
    assert completed.returncode == 2, completed.stderr
    assert "--endpoint-url: credentials in the URL are not allowed" in completed.stderr
    assert "Traceback" not in completed.stderr
    assert password not in completed.stderr + completed.stdout


def test_no_region_anywhere_exits_2_naming_each_place(
    no_aws_env: dict[str, str], tmp_path: Path
) -> None:
    env = {
        **no_aws_env,
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_REGION": "",
        "AWS_DEFAULT_REGION": "",
    }
    scenario = tmp_path / "no_region.yaml"  # no target.region (the shipped scenario sets one)
    scenario.write_text(
        "name: t\nmodels: [amazon.nova-lite-v1:0]\nprompt: {template: '{body}'}\n"
        "dataset: {rows: [{body: x}]}\nload: {rate: 1, requests: 1}\n"
    )
    completed = loadgen("run", str(scenario), "--out", str(tmp_path / "out"), env=env)
    assert completed.returncode == 2, completed.stderr
    assert "no AWS region set" in completed.stderr
    for place in ("--region", "target.region", "AWS_REGION", "AWS_DEFAULT_REGION", "profile"):
        assert place in completed.stderr
    assert "Traceback" not in completed.stderr
    assert FAKE_SECRET not in completed.stderr
