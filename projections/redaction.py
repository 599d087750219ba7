"""Redaction: what of a URL, a header or a message is secret, and that text with every secret replaced by
REDACTED. Stdlib only; projections.fetch passes every URL, header, message and log line through `redact`, and
the settings refuse credentials written into plain headers by `is_secret_name`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

REDACTED = "REDACTED"

_SECRET_NAMES = frozenset(
    {
        "key", "apikey", "token", "accesstoken", "secret", "password", "passwd", "pwd", "sig", "signature",
        "auth", "authorization", "proxyauthorization", "cookie", "setcookie", "sessionid", "session",
    }
)  # fmt: skip
_SECRET_SUFFIXES = ("key", "token", "secret", "password", "signature")
_PAIR = re.compile(r"(?P<name>[A-Za-z0-9_.\-\[\]]+)=(?P<value>[^&\s#;'\"<>,)]+)")
_JSON_PAIR = re.compile(r"\"(?P<name>[A-Za-z0-9_.\-]+)\"\s*:\s*\"(?P<value>[^\"]*)\"")
_HEADER_LINE = re.compile(r"(?im)^(?P<name>[A-Za-z0-9\-]+):[ \t]*(?P<value>[^\r\n]+)$")
_SCHEME_TOKEN = re.compile(r"(?i)\b(?P<scheme>bearer|basic)\s+(?P<value>[A-Za-z0-9._~+/=\-]{8,})")
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*):(?P<value>[^@/\s]+)@")


def is_secret_name(name: str) -> bool:
    """True for a query key or header name whose value must never be shown (case and `-`/`_` blind)."""
    norm = re.sub(r"[^a-z0-9]", "", name.lower())
    return norm in _SECRET_NAMES or norm.endswith(_SECRET_SUFFIXES)


def redact(url_or_text: str, secrets: Iterable[str] = ()) -> str:
    """Return `url_or_text` with every secret replaced by REDACTED.

    Covers secret-named query/form pairs (`api_key=`, `token=`, `sig=`... in any case), JSON pairs,
    `Name: value` header lines with secret names, `Bearer`/`Basic` credentials, URL passwords, and any
    literal value in `secrets` (plain and percent-encoded; values under 4 characters are only removed
    by the structural rules so that short values do not shred the text).
    """
    text = url_or_text
    for secret in sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True):
        for form in {secret, quote(secret, safe=""), quote_plus(secret, safe="")}:
            text = text.replace(form, REDACTED)

    def _pair(match: re.Match[str]) -> str:
        if not is_secret_name(match["name"]):
            return match[0]
        start, end = match.span("value")
        whole_start = match.start()
        return match[0][: start - whole_start] + REDACTED + match[0][end - whole_start :]

    text = _PAIR.sub(_pair, text)
    text = _JSON_PAIR.sub(_pair, text)
    text = _HEADER_LINE.sub(_pair, text)
    text = _SCHEME_TOKEN.sub(lambda m: f"{m['scheme']} {REDACTED}", text)
    return _USERINFO.sub(lambda m: f"{m['head']}:{REDACTED}@", text)
