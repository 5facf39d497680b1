"""Keep credentials out of everything loadgen writes: reports, samples, messages."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

# What AWS error texts can echo back: a canonical request's security token, a signature, an
# access key id in a Credential= scope.
_SECRETS = [
    re.compile(r"(x-amz-security-token[:=]\s*)\S+", re.IGNORECASE),
    re.compile(r"(Signature=)[0-9a-f]+", re.IGNORECASE),
    re.compile(r"(Credential=)[^/\s,]+"),
    re.compile(r"(Authorization:\s*)[^\n]+", re.IGNORECASE),
    re.compile(r"()\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"),
    re.compile(r"(Bearer\s+)\S+", re.IGNORECASE),  # an OpenAI-compatible API key
]


def redact_text(text: str) -> str:
    for pattern in _SECRETS:
        text = pattern.sub(lambda match: f"{match.group(1)}[redacted]", text)
    return text


def redact_url(url: str | None) -> str | None:
    """The URL without any user:password part."""
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[redacted]@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
