"""Keep credentials out of everything loadgen writes: reports, samples, messages.

Two nets, both applied by `redact_text`:

- **Known values.** The credentials a run holds are registered when it starts
  (`register_secrets`: the AWS access key id, secret access key and session token of the
  credential chain, a Bedrock API key, the OpenAI-path API key). Each is replaced wherever it
  appears, in the forms a server may echo it back in: as is, percent-encoded (either case of
  hex, `+` or `%20` for a space), JSON-escaped (`\\/`).
- **Shapes.** What a credential looks like even when loadgen never held it: AWS access key
  ids (AKIA/ASIA), STS session tokens, `Bearer` tokens, an `Authorization` header
  echoed back (plain, JSON or a Python dict), SigV4's `Credential=`/`Signature=`/
  `X-Amz-Security-Token=` (presigned URLs included), `sk-` API keys, `user:password@` in a URL,
  and `api_key=`/`secret_access_key=`-style assignments.

Redact first, truncate after: a secret cut in half no longer matches either net.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus, urlsplit, urlunsplit

REDACTED = "[redacted]"

# A shorter value is not registered: replacing every "abc" in every message would hide more
# than it protects, and no real credential is that short.
MIN_SECRET_LENGTH = 6

# What does not end a token in the shapes below: whitespace, quotes and the separators of
# headers, query strings and JSON.
_TOKEN = r"[^\s\"'&,;<>()\[\]{}]+"

_SHAPES = [
    # An Authorization header echoed back: plain (`Authorization: ...` to the end of the line),
    # as JSON ("authorization": "...") or a Python dict ('Authorization': '...').
    re.compile(r"(authorization[\"']?\s*[:=]\s*[\"'])[^\"'\n]*", re.IGNORECASE),
    re.compile(r"(authorization:\s*)[^\n\"']+", re.IGNORECASE),
    # SigV4 in headers and presigned URLs (percent-encoded `=` included).
    re.compile(r"(x-amz-security-token[\"']?\s*(?:[:=]|%3D)\s*[\"']?)" + _TOKEN, re.IGNORECASE),
    re.compile(r"(signature(?:=|%3D))" + _TOKEN, re.IGNORECASE),
    re.compile(r"(credential(?:=|%3D))[^/\s,&%\"']+", re.IGNORECASE),
    re.compile(r"(AWSAccessKeyId(?:=|%3D))" + _TOKEN, re.IGNORECASE),
    # Assignments of a secret, as a config file, a query string or JSON writes them.
    re.compile(
        r"((?:aws_)?(?:secret_access_key|secretaccesskey|session_token|sessiontoken|"
        r"api[_-]?key|access[_-]?token|x-api-key)[\"']?\s*(?:[:=]|%3D)\s*[\"']?)" + _TOKEN,
        re.IGNORECASE,
    ),
    re.compile(r"(Bearer(?:\s+|%20|\+))" + _TOKEN, re.IGNORECASE),
    # user:password@ in a URL inside a message.
    re.compile(r"([a-z][a-z0-9+.-]*://)[^/\s@\"']+(?=@)", re.IGNORECASE),
    # Bare values: AWS access key ids, STS session tokens (base64 of their fixed header), and
    # OpenAI-style keys. No left word boundary: `Credential%3DAKIA...` must match too.
    re.compile(r"()(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"),
    re.compile(r"()(?:IQoJb3JpZ2lu|FwoGZXIvYXdz)[A-Za-z0-9+/=%]{8,}"),
    re.compile(r"()\bsk-[A-Za-z0-9_-]{16,}"),
]

_secrets: set[str] = set()
_known: re.Pattern[str] | None = None


def register_secrets(*values: str | None) -> None:
    """Add credential values that must never be written; None, empty or short ones are skipped.

    Process-wide and cumulative: a run registers what its credential chain and API key hold
    when its backends start. `forget_secrets` empties the registry (tests)."""
    global _known
    added = False
    for value in values:
        if value and len(value) >= MIN_SECRET_LENGTH and value not in _secrets:
            _secrets.add(value)
            added = True
    if added:
        forms = sorted(
            {form for value in _secrets for form in _forms(value)}, key=len, reverse=True
        )
        _known = re.compile("|".join(re.escape(form) for form in forms))


def forget_secrets() -> None:
    global _known
    _secrets.clear()
    _known = None


def registered_secret_count() -> int:
    return len(_secrets)


def _forms(value: str) -> set[str]:
    """The forms a server may echo a value back in."""
    encoded = {quote(value, safe=""), quote(value, safe="/"), quote_plus(value)}
    encoded |= {quote(value, safe="").replace("%20", "+")}
    lower_hex = {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), form) for form in encoded}
    escaped = json.dumps(value)[1:-1]
    return {value, escaped, escaped.replace("/", "\\/"), *encoded, *lower_hex}


def redact_text(text: str) -> str:
    """The text with every registered secret and every credential-shaped token replaced."""
    if _known is not None:
        text = _known.sub(REDACTED, text)
    for pattern in _SHAPES:
        text = pattern.sub(lambda match: f"{match.group(1)}{REDACTED}", text)
    return text


def redact_url(url: str | None) -> str | None:
    """The URL without any user:password part, its credential query parameters redacted (by
    name, CREDENTIAL_PARAMETERS), then `redact_text` over the whole."""
    if url is None:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:  # not even a URL: the text nets still apply
        return redact_text(url)
    _, at, hostport = parts.netloc.rpartition("@")
    if at:
        parts = parts._replace(netloc=f"{REDACTED}@{hostport}")
    if parts.query:
        parts = parts._replace(query=_redact_query(parts.query))
    return redact_text(urlunsplit(parts) if at or parts.query else url)


def _redact_query(query: str) -> str:
    pairs = []
    for pair in query.split("&"):
        name, equals, _ = pair.partition("=")
        secret = equals and name.lower() in CREDENTIAL_PARAMETERS
        pairs.append(f"{name}={REDACTED}" if secret else pair)
    return "&".join(pairs)


# Query parameters that carry a credential (case-insensitive), in any URL loadgen is given.
CREDENTIAL_PARAMETERS = (
    "x-amz-credential",
    "x-amz-signature",
    "x-amz-security-token",
    "awsaccesskeyid",
    "signature",
    "api_key",
    "api-key",
    "apikey",
    "key",
    "token",
    "access_token",
    "password",
    "secret",
)


def url_credentials(url: str) -> list[str]:
    """What in `url` is a credential: "user:password@ before the host" (any user part), and
    each query parameter that carries one, by name. Empty: none. Never raises."""
    found = []
    _, _, rest = url.partition("://")
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in netloc:
        found.append("user:password@ before the host")
    query = url.partition("?")[2].partition("#")[0]
    for name in _query_names(query):
        if name.lower() in CREDENTIAL_PARAMETERS:
            found.append(f"the query parameter {name}")
    return found


def _query_names(query: str) -> Iterable[str]:
    for pair in query.split("&"):
        name = pair.split("=", 1)[0]
        if name:
            yield name
