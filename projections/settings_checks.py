"""What a valid value of a setting is, beyond its type: the checks projections.settings attaches to its fields
(each raises ValueError with what is wrong and an example; pydantic turns it into the setting's error, which
names the variable or the file it came from)."""

from __future__ import annotations

import json
import re
import string
from typing import Any

# The fields an alert's details command may name; alerts fill them in with str.format.
DETAILS_FIELDS = ("date",)


def listing(example: str) -> Any:
    """A check for a list setting that takes one value, values separated by commas (`a, b`), or a list - the
    environment's JSON list included - so `PROJECTIONS_SCHEDULE__TIMES=10:00,17:30` works as it reads."""

    def check(value: Any) -> Any:
        if isinstance(value, str):
            if value.lstrip().startswith("["):
                try:
                    return json.loads(value)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{value!r} is neither a JSON list ({exc.msg}) nor values separated by "
                                     f"commas; write e.g. {example}") from None
            return tuple(part.strip() for part in value.split(",") if part.strip())
        if not isinstance(value, list | tuple):
            raise ValueError(f"{value!r} is not a list: give one value, several separated by commas (e.g. "
                             f"{example}), or a list")
        return value

    return check


addresses = listing("ops@example.org, oncall@example.org")


def details_template(value: str) -> str:
    """Refuse a details command alerts could not fill in (str.format): every failure alert would be lost to it."""
    allowed = ", ".join(f"{{{name}}}" for name in DETAILS_FIELDS)
    how = (f"the fields allowed are {allowed} (a literal brace is written {{{{ or }}}}), "
           "e.g. 'projections status {date}'")
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(value) if name is not None]
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a valid template ({exc}); {how}") from None
    names = [name for name, _, _ in fields]
    formatted = sorted({f"{{{name}{'!' + conv if conv else ''}{':' + spec if spec else ''}}}"
                        for name, spec, conv in fields if spec or conv})
    if formatted:  # `{date:>99999999}` built a 100 MB string at every settings load, and into every alert
        raise ValueError(f"{value!r} formats a field ({', '.join(formatted)}): fields are put in as they are, "
                         f"without !conversions or :specs; {how}")
    unknown = sorted({f"{{{name}}}" for name in names if re.split(r"[.\[]", name, maxsplit=1)[0] not in DETAILS_FIELDS})
    if unknown:
        raise ValueError(f"{value!r} names the unknown field{'s' * (len(unknown) > 1)} {', '.join(unknown)}; {how}")
    try:
        value.format(**dict.fromkeys(DETAILS_FIELDS, "2019-10-30"))
    except (ValueError, AttributeError, IndexError, KeyError, TypeError) as exc:
        raise ValueError(f"{value!r} cannot be filled in ({type(exc).__name__}: {exc}); the fields are text, used "
                         f"as they are: {how}") from None
    return value


def times(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        raise ValueError("no time given: give at least one HH:MM, e.g. [\"10:00\", \"17:30\"]")
    for text in value:
        if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d(:[0-5]\d)?", text.strip()):
            raise ValueError(f"{text!r} is not HH:MM or HH:MM:SS in 24-hour time")
    return value


def timezone(value: str) -> str:
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. America/New_York)") from None
    return value


def number(value: Any) -> Any:
    """Refuse true/false for a number: pydantic would read `serve_port = true` as port 1."""
    if isinstance(value, bool):
        raise ValueError(f"{str(value).lower()} is a boolean, not a number: write the number itself, or leave the "
                         "setting out for its default")
    return value


def http_url(value: Any) -> Any:
    """An http(s) URL with a host (a secret: the error never quotes it); "" stays "" (no webhook)."""
    from pydantic import AnyHttpUrl, SecretStr, TypeAdapter, ValidationError

    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not isinstance(text, str) or text == "":
        return value
    try:
        TypeAdapter(AnyHttpUrl).validate_python(text)
    except ValidationError as exc:
        why = exc.errors()[0]["msg"].removeprefix("Input should be a valid URL, ")  # never the input itself
        raise ValueError(f"not an http(s) URL with a host ({why}; the value is a secret, not shown): give the "
                         "webhook's whole URL, e.g. https://hooks.slack.com/services/T000/B000/XXXX") from None
    return value


def unit(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.:\-]+", value) or value.endswith((".service", ".timer")):
        raise ValueError(f"{value!r} is not a usable unit name: use letters, digits, '-', '_', '.' or ':' without a "
                         "suffix or '@' (e.g. projections-slate)")
    return value


def octal(value: Any) -> Any:
    """A mode as people write it: text is octal digits ("2775", "0o2775"); an int is the mode itself (the file's
    and the environment's plain ints arrive as text: see _modes_as_written)."""
    how = "write its octal digits, e.g. 2775 or 0o2775 (at most 7777)"
    if isinstance(value, str):
        digits = value.strip().lower().removeprefix("0o")
        if not re.fullmatch(r"0*[0-7]{1,4}", digits):
            raise ValueError(f"{value!r} is not an octal mode: {how}")
        return int(digits, 8)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{value!r} is not a mode: {how}")
    if not 0 <= value <= 0o7777:
        raise ValueError(f"{value:#o} is not a mode: {how}")
    return value


def dir_mode(value: int) -> int:
    if value & 0o700 != 0o700:
        raise ValueError(f"{value:04o} does not give the owner rwx (0700): the pipeline could not write the "
                         "directories it creates; keep 7 as the owner digit, e.g. 2775 (or 2770 for the group only)")
    return value


def file_mode(value: int) -> int:
    if value & 0o600 != 0o600:
        raise ValueError(f"{value:04o} does not give the owner rw (0600): the pipeline could not append to its own "
                         "ledger; use e.g. 664 (or 660 for the group only)")
    if value & 0o7000:
        raise ValueError(f"{value:04o} sets setuid/setgid/sticky bits, which the data root's files must not carry; "
                         "use e.g. 664")
    return value
