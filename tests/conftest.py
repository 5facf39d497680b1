"""Shared fixtures: credentials that are obviously fake, scenarios built in tmp folders; and the
`unit` and `e2e` markers, given by folder (tests/unit/<package>/, tests/e2e/)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from loadgen.config.scenario import Scenario, scenario_from_dict

TESTS = Path(__file__).resolve().parent
MARKED_FOLDERS = {"unit": TESTS / "unit", "e2e": TESTS / "e2e"}

FAKE_KEY_ID = "AKIAFAKEFAKEFAKEFAKE"
FAKE_SECRET = "fake-secret-never-leaks-0123456789abcdefgh"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Credentials from the environment only: nothing read from the machine's ~/.aws."""
    values = {
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return values


@pytest.fixture
def no_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """An environment where the standard credential chain finds nothing, quickly."""
    for key in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(key, raising=False)
    values = {
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


ScenarioFactory = Callable[..., Scenario]


def build_scenario(base_dir: Path, **changes: Any) -> Scenario:
    """A small scenario of one test model; `changes` replace its keys (a mapping is merged
    into the one it replaces). What make_scenario builds, for module-scoped fixtures too."""
    data: dict[str, Any] = {
        "name": "test",
        "models": ["fixed-model"],
        "prompt": {"template": "Summarise: {body}"},
        "dataset": {"rows": [{"id": f"r{i}", "body": "word " * (10 + i)} for i in range(5)]},
        "inference": {"max_tokens": 100},
        "load": {"rate": 10, "arrival": "constant", "requests": 10},
        "cost": {"allow_unpriced": True},  # the test models are not in the catalogue
        "seed": 1,
    }
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return scenario_from_dict(data, base_dir=base_dir)


@pytest.fixture
def make_scenario(tmp_path: Path) -> ScenarioFactory:
    def build(**changes: Any) -> Scenario:
        return build_scenario(tmp_path, **changes)

    return build


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto in server mode on loopback: the CloudWatch endpoint of the tests."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def email_summary_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The bundled study as the README runs it, for 10 s instead of 30 (`loadgen run
    scenarios/email_summary.yaml --rps 5 --duration 10s --emulate`): its completed process and
    out folder. One run for the tests that only read what it wrote (tests/e2e/test_cli.py,
    test_quality_run.py)."""
    from tests.helpers import loadgen

    out = tmp_path_factory.mktemp("email_summary")
    args = ["scenarios/email_summary.yaml", "--rps", "5", "--duration", "10s", "--emulate"]
    completed = loadgen("run", *args, "--out", str(out))
    return completed, out


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test is marked by its folder: `pytest -m unit`, `pytest -m e2e`."""
    for item in items:
        path = Path(item.path).resolve()
        for marker, folder in MARKED_FOLDERS.items():
            if path.is_relative_to(folder):
                item.add_marker(marker)
