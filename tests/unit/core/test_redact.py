"""Redaction: registered credential values in every form a server may echo them, credential
shapes loadgen never held, and URLs with credentials in them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest

from loadgen.core.redact import (
    REDACTED,
    forget_secrets,
    redact_text,
    redact_url,
    register_secrets,
    registered_secret_count,
    url_credentials,
)

# Shaped like the real thing, and obviously fake: a secret with the characters that encode.
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY EXAMPLE=KEY"
TOKEN = "FakeSessionToken/abc+def==" + "x" * 40


@pytest.fixture(autouse=True)
def empty_registry() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


def echoes(value: str) -> list[str]:
    """What a server may send back of a value."""
    return [
        value,
        quote(value, safe=""),
        re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), quote(value, safe="")),  # %2f
        quote(value, safe="/"),
        quote_plus(value),
        json.dumps(value)[1:-1],
        json.dumps(value)[1:-1].replace("/", "\\/"),
    ]


@pytest.mark.parametrize("form", range(7))
def test_a_registered_secret_is_redacted_in_each_echoed_form(form: int) -> None:
    register_secrets(SECRET)
    echoed = echoes(SECRET)[form]
    text = f'{{"message": "signature mismatch for key {echoed} (request 7)"}}'
    cleaned = redact_text(text)
    for variant in echoes(SECRET):
        assert variant not in cleaned
    assert "signature mismatch for key" in cleaned and "(request 7)" in cleaned
    assert REDACTED in cleaned


def test_unregistered_values_and_short_values_are_left_alone() -> None:
    register_secrets(None, "", "abc")
    assert registered_secret_count() == 0
    assert redact_text("abc SECRET-ish words") == "abc SECRET-ish words"
    # Cumulative, and a value registered twice is held once.
    register_secrets(SECRET, TOKEN, SECRET)
    assert registered_secret_count() == 2
    cleaned = redact_text(f"{TOKEN} and {SECRET}")
    assert TOKEN not in cleaned and SECRET not in cleaned


def test_a_secret_that_contains_another_is_redacted_whole() -> None:
    short, long = "part-of-a-key", "part-of-a-key-and-more-of-it"
    register_secrets(short, long)
    assert redact_text(f"x {long} y") == f"x {REDACTED} y"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        # An Authorization header echoed back: plain, JSON, a Python dict.
        ("Authorization: Bearer sk-live-0123456789abcdefXYZ", "sk-live-0123456789abcdefXYZ"),
        ('{"headers": {"authorization": "Bearer tok.en-123456"}}', "tok.en-123456"),
        ("{'Authorization': 'Basic dXNlcjpwYXNzd29yZA=='}", "dXNlcjpwYXNzd29yZA=="),
        # SigV4 as an error text or a presigned URL shows it.
        (
            "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/"
            "us-east-1/bedrock/aws4_request, SignedHeaders=host, Signature=fe5f80f77d5fa3",
            "fe5f80f77d5fa3",
        ),
        ("https://h/x?X-Amz-Signature=0a1b2c3d4e5f&X-Amz-Date=1", "0a1b2c3d4e5f"),
        ("url: X-Amz-Credential=ASIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1", "ASIAIOSFODNN7EX"),
        ("X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJr%2F%2F%2Fabc&x=1", "IQoJb3JpZ2luX2VjEJr"),
        ("x-amz-security-token:FwoGZXIvYXdzEBYaDK", "FwoGZXIvYXdzEBYaDK"),
        ("Credential%3DAKIAIOSFODNN7EXAMPLE%2F2026", "AKIAIOSFODNN7EXAMPLE"),
        # Bare values: key ids, STS session tokens, OpenAI-style keys.
        ("the key AKIAIOSFODNN7EXAMPLE is not valid", "AKIAIOSFODNN7EXAMPLE"),
        ("token IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJ", "IQoJb3JpZ2lu"),
        ("Incorrect API key provided: sk-proj-abcdefghijklmnop1234", "sk-proj-abcdefghijklm"),
        ("Bearer%20abcdef123456", "abcdef123456"),
        # Assignments, as a config file or a query string writes them.
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", "wJalrXUtnFEMI/K7MDENG"),
        ("GET /v1/models?api_key=k-123456789 HTTP/1.1", "k-123456789"),
        ('{"x-api-key": "abcdef-123456"}', "abcdef-123456"),
        # user:password@ in a URL inside a message.
        ("cannot connect to https://alice:hunter2secret@gw.example.com/v1", "hunter2secret"),
    ],
)
def test_credential_shapes_are_redacted_without_registration(text: str, secret: str) -> None:
    cleaned = redact_text(text)
    assert secret not in cleaned, cleaned
    assert REDACTED in cleaned


def test_ordinary_error_texts_keep_their_meaning() -> None:
    texts = [
        "ThrottlingException: Too many requests, please wait before trying again.",
        "The request signature we calculated does not match the signature you provided.",
        "target.api_key_env names OPENAI_KEY, which is not set or empty",
        "ClientConnectorError: Cannot connect to host 127.0.0.1:8080",
    ]
    for text in texts:
        assert redact_text(text) == text


def test_redaction_is_idempotent() -> None:
    register_secrets(SECRET)
    once = redact_text(f"Authorization: Bearer {SECRET} https://u:p4ssword@h/ Signature=abcdef")
    assert redact_text(once) == once


def test_redact_url() -> None:
    assert redact_url(None) is None
    assert redact_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080"
    assert redact_url("https://user:pw@gw.example.com:8443/x") == (
        f"https://{REDACTED}@gw.example.com:8443/x"
    )
    # A password with an @ in it, unencoded: everything before the last @ is user info.
    assert redact_url("https://u:p@ss@gw.example.com/") == f"https://{REDACTED}@gw.example.com/"
    # Credential query parameters, by name; others kept.
    assert redact_url("https://h/v1?key=AIzaSyFAKE123&mode=fast") == (
        f"https://h/v1?key={REDACTED}&mode=fast"
    )
    # Not parseable as a URL (an unbalanced IPv6 bracket): the text nets still apply.
    assert "hunter2secret" not in str(redact_url("http://u:hunter2secret@[::1/x"))


def test_url_credentials() -> None:
    assert url_credentials("https://bedrock-runtime.us-east-1.amazonaws.com") == []
    assert url_credentials("http://127.0.0.1:8000/v1?model=x") == []
    assert url_credentials("https://user:pass@host/") == ["user:password@ before the host"]
    assert url_credentials("https://token@host/") == ["user:password@ before the host"]
    # An @ in the path is no user info.
    assert url_credentials("https://host/a@b") == []
    assert url_credentials("https://h/?X-Amz-Signature=abc&X-Amz-Credential=d") == [
        "the query parameter X-Amz-Signature",
        "the query parameter X-Amz-Credential",
    ]
    # Never raises, even on what urlsplit refuses.
    assert url_credentials("http://u:p@[::1") == ["user:password@ before the host"]
