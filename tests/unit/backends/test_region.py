"""Where Bedrock requests go: target.region, AWS_REGION, AWS_DEFAULT_REGION, the profile's
region, in that order; said with its source, passed to the SDK, and a clear stop without one.
Also: what the AWS checks find is registered for redaction."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from loadgen.backends.bedrock_client import (
    EMULATOR_CREDENTIALS,
    BedrockClient,
    find_region,
    resolve_region,
)
from loadgen.config.scenario import TargetSpec, TimeoutSpec
from loadgen.core.errors import PreflightError
from loadgen.core.redact import forget_secrets, redact_text, registered_secret_count
from loadgen.run.setup import check_aws_setup
from tests.conftest import FAKE_KEY_ID, FAKE_SECRET

SESSION_TOKEN = "FakeSessionTokenForTests/abcdefghijklmnopqrstuvwxyz0123456789+=="
CONFIG = """\
[default]
region = ap-south-1

[profile perf]
region = eu-west-3

[profile noregion]
output = json
"""


@pytest.fixture
def aws_files(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A config file of our own; no region or profile from the environment."""
    config = tmp_path / "config"
    config.write_text(CONFIG)
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[default]\n"
        f"aws_access_key_id = {FAKE_KEY_ID}\n"
        f"aws_secret_access_key = {FAKE_SECRET}\n"
        "[perf]\n"
        f"aws_access_key_id = {FAKE_KEY_ID}\n"
        f"aws_secret_access_key = {FAKE_SECRET}\n"
        f"aws_session_token = {SESSION_TOKEN}\n"
        "[noregion]\n"
        f"aws_access_key_id = {FAKE_KEY_ID}\n"
        f"aws_secret_access_key = {FAKE_SECRET}\n"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in (
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_BEARER_TOKEN_BEDROCK",
    ):
        monkeypatch.delenv(name, raising=False)
    return config


@pytest.fixture(autouse=True)
def empty_registry() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


def client(target: TargetSpec, credentials: dict[str, str] | None = None) -> BedrockClient:
    return BedrockClient(target, TimeoutSpec(), pool_size=1, static_credentials=credentials)


def test_the_order_scenario_then_aws_region_then_default_then_profile(
    aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = TargetSpec(region="us-west-2")
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")
    assert find_region(target) == ("us-west-2", "scenario")
    assert find_region(TargetSpec()) == ("eu-central-1", "AWS_REGION")
    monkeypatch.setenv("AWS_REGION", "")  # empty is unset
    assert find_region(TargetSpec()) == ("eu-north-1", "AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert find_region(TargetSpec()) == ("ap-south-1", "profile default")
    assert find_region(TargetSpec(profile="perf")) == ("eu-west-3", "profile perf")
    monkeypatch.setenv("AWS_PROFILE", "perf")
    assert find_region(TargetSpec()) == ("eu-west-3", "profile perf")
    # A named profile does not outrank the environment (as the AWS CLI).
    monkeypatch.setenv("AWS_REGION", "sa-east-1")
    assert find_region(TargetSpec(profile="perf")) == ("sa-east-1", "AWS_REGION")


def test_any_target_with_a_region_and_a_profile_will_do(aws_files: Path) -> None:
    @dataclass
    class CloudWatchLike:  # e.g. loadgen/cloudwatch/setup.py's target
        region: str | None = None
        profile: str | None = None

    assert find_region(CloudWatchLike(profile="perf")) == ("eu-west-3", "profile perf")
    assert find_region(CloudWatchLike(region="us-east-2")) == ("us-east-2", "scenario")


def test_aws_region_reaches_the_session_botocore_alone_would_not(
    aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-north-1")  # what botocore alone would take
    backend = client(TargetSpec())
    assert backend.region == ("eu-central-1", "AWS_REGION")
    assert backend.session().region_name == "eu-central-1"


def test_no_region_anywhere(aws_files: Path) -> None:
    assert find_region(TargetSpec(profile="noregion")) is None
    with pytest.raises(PreflightError) as caught:
        resolve_region(TargetSpec(profile="noregion"))
    message = str(caught.value)
    for place in ("--region", "target.region", "AWS_REGION", "AWS_DEFAULT_REGION"):
        assert place in message
    assert f"profile noregion in {aws_files}" in message
    assert "export AWS_REGION=us-east-1" in message
    assert "aws configure set region us-east-1 --profile noregion" in message
    assert caught.value.exit_code == 2


def test_a_missing_profile_has_no_region_and_says_so_without_raising(aws_files: Path) -> None:
    assert find_region(TargetSpec(profile="absent")) is None


async def test_start_stops_with_the_same_message_without_a_region(aws_files: Path) -> None:
    backend = client(TargetSpec(profile="noregion", endpoint_url="http://127.0.0.1:9"))
    with pytest.raises(PreflightError, match=r"no AWS region set\..*AWS_DEFAULT_REGION"):
        await backend.start()
    await backend.close()


async def test_check_aws_setup_returns_the_region_and_registers_the_credentials(
    aws_files: Path,
) -> None:
    target = TargetSpec(profile="perf")
    assert await check_aws_setup(client(target), target) == ("eu-west-3", "profile perf")
    text = f"echo {FAKE_KEY_ID} {FAKE_SECRET} {SESSION_TOKEN}"
    assert redact_text(text) == "echo [redacted] [redacted] [redacted]"


async def test_check_aws_setup_without_a_region(aws_files: Path) -> None:
    target = TargetSpec(profile="noregion")
    with pytest.raises(PreflightError, match=r"no AWS region set\. loadgen looked, in order"):
        await check_aws_setup(client(target), target)


async def test_check_aws_setup_names_a_broken_profile_without_a_traceback(
    aws_files: Path,
) -> None:
    target = TargetSpec(profile="absent", region="us-east-1")
    with pytest.raises(PreflightError) as caught:
        await check_aws_setup(client(target), target)
    message = str(caught.value)
    assert message.startswith("AWS credentials could not be loaded (ProfileNotFound")
    assert "absent" in message and "--profile" in message


async def test_a_started_client_registers_its_credentials_but_not_the_emulators(
    aws_files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = TargetSpec(region="us-east-1", endpoint_url="http://127.0.0.1:9")
    emulated = client(target, EMULATOR_CREDENTIALS)
    await emulated.start()
    await emulated.close()
    assert registered_secret_count() == 0  # the emulator's placeholder is public

    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-FAKE-0123456789")
    real = client(TargetSpec(region="us-east-1", endpoint_url="http://127.0.0.1:9"))
    await real.start()
    await real.close()
    cleaned = redact_text(f"{FAKE_SECRET} / bedrock-api-key-FAKE-0123456789")
    assert cleaned == "[redacted] / [redacted]"
