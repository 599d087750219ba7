"""Secrets in the settings file: which keys hold one, and whether every user of the machine may read them.

Found by parsing the file (dotted and quoted keys included), not by matching lines: a secret-named key
(webhook_url, smtp_password, api_key, ...: redaction.is_secret_name) with a value, or any string carrying
credentials in a URL (a password, `token=...`: what redaction.redact would hide). Header tables are not
searched: the settings refuse credentials in headers, and `x-nba-stats-token = "true"` is none.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from projections.redaction import is_secret_name, redact


def world_readable_secrets() -> tuple[Path, list[str]] | None:
    """(the settings file, its secret keys) when every user may read it and it holds any; else None."""
    from projections.settings import config_file

    path = config_file()
    try:
        if path is None or not path.stat().st_mode & 0o004:
            return None
        text = path.read_text(errors="replace")
    except OSError:
        return None
    keys = secret_keys(text)
    return (path, keys) if keys else None


def secret_keys(text: str) -> list[str]:
    """The dotted keys of a settings file's text whose values are secrets: secret-named keys (webhook_url,
    smtp_password, api_key, ...: redaction.is_secret_name) and strings carrying credentials (a URL's password,
    `token=...`: what redaction.redact would hide). Text that is not TOML is searched line by line."""
    try:
        tables = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return [m.group(1) for m in re.finditer(r"^\s*\"?([\w.]*(?:webhook_url|password|api_key|token))\"?\s*=", text,
                                                re.MULTILINE | re.IGNORECASE)]
    found: list[str] = []

    def walk(value: object, where: str) -> None:
        name = where.rpartition(".")[2]
        if isinstance(value, dict):
            if name in ("headers", "stats_headers"):  # a header's value (x-nba-stats-token = "true") is sent as it
                return  # is: the settings refuse credentials there, and a secret-looking header name is no secret
            for key, inner in value.items():
                walk(inner, f"{where}.{key}" if where else str(key))
        elif isinstance(value, list):
            for inner in value:
                walk(inner, where)
        elif isinstance(value, str) and value and (name == "webhook_url" or is_secret_name(name)
                                                   or ("://" in value and redact(value) != value)):  # a URL's secret
            found.append(where)

    walk(tables, "")
    return sorted(set(found))
