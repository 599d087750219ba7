"""Where settings are read from, as strictly as each allows: the PROJECTIONS_* environment (`Environment`) and
the TOML file (`SettingsFile`). A variable or a key that is no setting is refused naming the closest one; a file
that is not TOML names its line (without the value of a secret); permission modes are read as octal digits
however they are written. projections.settings puts them together.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Sequence
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_settings import BaseSettings, EnvSettingsSource, TomlConfigSettingsSource

from projections.errors import ConfigError
from projections.settings_file import NOT_SETTINGS, prefixed_ints

ENV_PREFIX = "PROJECTIONS_"
MODE_FIELDS = ("dir_mode", "file_mode")


def _modes_as_written(data: dict[str, Any], prefixed: dict[str, int] | None = None) -> dict[str, Any]:
    """`data` with the permission modes of its [permissions] table as text, so they are read as octal digits:
    a plain int (`dir_mode = 2775` in the file, 2775 in a JSON variable) by its decimal digits, one the file wrote
    as a 0o/0x/0b literal (`prefixed`: what the text says) by its value."""
    for name, table in data.items():
        if name.lower() != "permissions" or not isinstance(table, dict):
            continue
        for key, value in table.items():
            if key.lower() in MODE_FIELDS and isinstance(value, int) and not isinstance(value, bool):
                literal = (prefixed or {}).get(key.lower())
                table[key] = f"0o{value:o}" if literal == value else str(value)
    return data


def _variables(model: type[BaseModel], prefix: str = ENV_PREFIX) -> list[str]:
    """Every variable that sets a field of `model` (its tables too, as JSON), e.g. PROJECTIONS_ALERTS__SMTP_TO."""
    out = []
    for name, field in model.model_fields.items():
        variable = prefix + name.upper()
        out.append(variable)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            out.extend(_variables(field.annotation, variable + "__"))
    return out


def _unknown_variable(name: str, model: type[BaseModel]) -> str | None:
    """Why the PROJECTIONS_* variable `name` sets nothing (with the closest variable that would), or None when it
    is a setting; its fields below a table are checked by the model (`extra="forbid"`) and the stages."""
    fields = {key.lower(): field for key, field in model.model_fields.items()}
    rest = name.upper().removeprefix(ENV_PREFIX)
    head, _, tail = rest.partition("__")
    field = fields.get(head.lower())
    if field is not None:
        annotation = field.annotation
        table = (isinstance(annotation, type) and issubclass(annotation, BaseModel)) \
            or getattr(annotation, "__origin__", None) is dict
        if not tail or table:
            return None
        return f"not a setting: {head.lower()} has no fields (did you mean {ENV_PREFIX}{head}?)"
    close = difflib.get_close_matches(head.lower(), list(fields), n=1) if tail else []
    if close:
        return f"not a setting (did you mean {ENV_PREFIX}{close[0].upper()}__{tail}?)"
    close = difflib.get_close_matches(name.upper(), _variables(model), n=1)
    return f"not a setting (did you mean {close[0]}?)" if close else "not a setting"


class Environment(EnvSettingsSource):
    """The PROJECTIONS_* variables, read as strictly as the file: one that is no setting (nor one of
    settings_file.NOT_SETTINGS), or not written in capitals, is a ConfigError naming it and the closest setting;
    the permission modes of a JSON table are read as octal digits, as when set one by one."""

    def __call__(self) -> dict[str, Any]:
        unknown = {name: why for name in sorted(os.environ)
                   if name.upper().startswith(ENV_PREFIX) and name.upper() not in NOT_SETTINGS
                   and (why := _unknown_variable(name, self.settings_cls)) is not None}
        unknown.update({name: f"write it in capitals, {name.upper()}: doit's cached settings, the settings file's "
                              "location and the units read capital names only" for name in sorted(os.environ)
                        if name.upper().startswith(ENV_PREFIX) and name != name.upper() and name not in unknown})
        if unknown:
            problems = "; ".join(f"{name}: {why}" for name, why in unknown.items())
            raise ConfigError(f"invalid settings in the environment ({problems}); rename or unset "
                              f"{'it' if len(unknown) == 1 else 'them'} (docs/settings.md lists every setting)")
        return _modes_as_written(super().__call__())


class SettingsFile(TomlConfigSettingsSource):
    """projections.toml, read strictly: a syntax error, or a top-level key that is no setting, is a ConfigError
    naming the file. Permission modes are read as octal digits however they are written (2775, "2775", 0o2775)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls, toml_file=path)
        # matched as the loader matches them: case-insensitively (case_sensitive is off)
        known = {name.lower(): name for name in settings_cls.model_fields}
        unknown = [key for key in self.toml_data if key.lower() not in known]
        if unknown:
            problems = "; ".join(f"{key}: {not_a_setting(key, list(known.values()))}" for key in unknown)
            raise ConfigError(f"invalid settings in {path} ({problems}); rename or remove "
                              f"{'it' if len(unknown) == 1 else 'them'} (docs/settings.md lists every setting)")

    def _read_file(self, file_path: Path | Traversable) -> dict[str, Any]:
        text = read_text(file_path)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(toml_problem(file_path, exc)) from None
        return _modes_as_written(data, prefixed_ints(text, MODE_FIELDS))


def read_text(path: Path | Traversable) -> str:
    """The settings file's text, without the byte order mark some editors put first (tomllib refuses it); a
    ConfigError naming the file when it cannot be read or is not UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the settings file {path}: {exc.strerror or exc}; fix its "
                          "permissions, or point PROJECTIONS_CONFIG at another file") from None
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path} is not UTF-8 text (line {line}: byte {raw[exc.start]:#04x}); "
                          "save it as UTF-8") from None


# keys whose values are secrets (a webhook URL carries its token): never quoted back in an error
SECRET_KEYS = re.compile(r"^\s*[\"']?(webhook_url|smtp_password|password|api_key|token|secret|key|headers)\b[^=]*=",
                         re.IGNORECASE)


def _without_secret(line: str) -> str:
    """A settings line as an error may quote it: the value of a secret-looking key replaced by '...'."""
    found = SECRET_KEYS.match(line)
    return f"{found.group(0)} ..." if found else line


def toml_problem(path: Path | Traversable, exc: tomllib.TOMLDecodeError) -> str:
    """`<file> is not valid TOML at line L, column C: what (the line reads '...')` - tomllib puts the position
    in its message (3.14 also has lineno/colno)."""
    message = str(exc)
    what: str = getattr(exc, "msg", message)
    line: int | None = getattr(exc, "lineno", None)
    column: int | None = getattr(exc, "colno", None)
    where = ""
    if line is None and (found := re.fullmatch(r"(.*) \(at line (\d+), column (\d+)\)", message, re.DOTALL)):
        what, line, column = found[1], int(found[2]), int(found[3])
    elif line is None and (found := re.fullmatch(r"(.*) \(at end of document\)", message, re.DOTALL)):
        what, where = found[1], " at the end of the file"
    if line is not None:
        where = f" at line {line}, column {column}"
        try:
            text = path.read_bytes().decode("utf-8", "replace").removeprefix("\ufeff").splitlines()[line - 1].strip()
        except (OSError, IndexError):
            text = ""
        if text:
            what += f" (the line reads {_without_secret(text)[:80]!r})"
    return f"{path} is not valid TOML{where}: {what}; fix the file, or point PROJECTIONS_CONFIG at another one"


def not_a_setting(name: str, choices: Sequence[str], prefix: str = "") -> str:
    close = difflib.get_close_matches(name.lower(), choices, n=1)
    return f"not a setting (did you mean {prefix}{close[0]}?)" if close else "not a setting"
