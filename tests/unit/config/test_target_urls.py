"""target's URLs: refused with credentials in them, in the scenario's words, without echoing
the credentials back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loadgen.config.scenario import TARGET_URL_FIELDS, load_scenario, scenario_from_dict
from loadgen.core.errors import ConfigError

PASSWORD = "hunter2-not-a-real-password"


def minimal(**target: Any) -> dict[str, Any]:
    return {
        "name": "t",
        "models": ["amazon.nova-lite-v1:0"],
        "prompt": {"template": "Summarise: {body}"},
        "dataset": {"rows": [{"id": "r1", "body": "hello"}]},
        "load": {"rate": 2, "duration": "5s"},
        "target": target,
    }


@pytest.mark.parametrize("field", TARGET_URL_FIELDS)
@pytest.mark.parametrize(
    ("url", "what"),
    [
        (f"https://user:{PASSWORD}@gw.example.com/", "user:password@ before the host"),
        (f"https://{PASSWORD}@gw.example.com:8443/v1", "user:password@ before the host"),
        (f"https://gw.example.com/v1?api_key={PASSWORD}", "the query parameter api_key"),
        (
            f"https://h.example.com/?X-Amz-Credential=AKIAFAKE&X-Amz-Signature={PASSWORD}",
            "the query parameter X-Amz-Credential and the query parameter X-Amz-Signature",
        ),
    ],
)
def test_a_url_with_credentials_is_refused_without_echoing_them(
    field: str, url: str, what: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        scenario_from_dict(minimal(**{field: url}))
    assert caught.value.exit_code == 2
    [problem] = caught.value.problems
    assert problem.startswith(f"target.{field}: credentials in the URL are not allowed")
    assert what in problem
    assert "target.api_key_env" in problem and "AWS_PROFILE" in problem  # how to fix
    assert PASSWORD not in str(caught.value)
    assert "[redacted]" in problem  # what was found, shown redacted


def test_the_flag_is_named_and_the_password_not_echoed() -> None:
    overrides = {"target": {"endpoint_url": f"http://me:{PASSWORD}@127.0.0.1:8080"}}
    with pytest.raises(ConfigError) as caught:
        scenario_from_dict(minimal(), overrides=overrides)
    assert caught.value.problems[0].startswith("--endpoint-url: credentials in the URL")
    assert PASSWORD not in str(caught.value)


def test_other_faults_of_a_url_with_credentials_do_not_echo_them() -> None:
    # The credentials are named first; the same field's other faults wait for the next load.
    with pytest.raises(ConfigError) as caught:
        scenario_from_dict(minimal(endpoint_url=f"ftp://u:{PASSWORD}@h:badport/"))
    assert PASSWORD not in str(caught.value)
    assert "target.endpoint_url" in str(caught.value)


def test_a_scenario_file_with_credentials_in_its_url(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: t\nmodels: [m]\nprompt: {template: '{body}'}\n"
        "dataset: {rows: [{body: x}]}\nload: {rate: 1, requests: 1}\n"
        f"target: {{endpoint_url: 'https://alice:{PASSWORD}@gw.example.com'}}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    text = str(caught.value)
    assert text.startswith(f"{path}: target.endpoint_url: credentials in the URL")
    assert PASSWORD not in text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080",
        "https://bedrock-runtime.us-east-1.amazonaws.com",
        "http://localhost:8000/v1",
        "https://gw.example.com/a@b",  # an @ in the path is no user info
        "https://gw.example.com/v1?model=x",
    ],
)
def test_urls_without_credentials_still_load(url: str) -> None:
    scenario = scenario_from_dict(minimal(endpoint_url=url))
    assert scenario.target.endpoint_url == url.rstrip("/")
