"""Where the settings TOML file is, and what only its text tells (stdlib only, so the fast path can key its cache
on it)."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any

from projections.errors import ConfigError

DEFAULT_HOME = "outputs"


def empty_path(name: str, default: str) -> str:
    """The message for a path setting that is set but empty: Path("") is the current directory, never meant."""
    return (f"{name} is set but empty, which would mean the current directory ({os.getcwd()}); "
            f"unset it or give a path (default: {default})")


def path_variable(name: str, default: str) -> Path | None:
    """The path in the environment variable `name`; None when unset, a ConfigError when set but empty."""
    value = os.environ.get(name)
    if value is None:
        return None
    if not value.strip():
        raise ConfigError(empty_path(name, default))
    return Path(value).expanduser()


def config_file() -> Path | None:
    """`$PROJECTIONS_CONFIG`, else `<home>/projections.toml` when it exists, else None."""
    explicit = path_variable("PROJECTIONS_CONFIG", "$PROJECTIONS_HOME/projections.toml")
    if explicit is not None:
        if explicit.is_dir():
            raise ConfigError(f"PROJECTIONS_CONFIG={explicit} is a directory; it names a TOML file "
                              f"(e.g. {explicit / 'projections.toml'}): point it at one or unset it")
        if not explicit.exists():
            raise ConfigError(f"PROJECTIONS_CONFIG={explicit} does not exist; point it at a TOML file or unset it")
        if not explicit.is_file():
            raise ConfigError(f"PROJECTIONS_CONFIG={explicit} is not a regular file; point it at a TOML file "
                              "or unset it")
        return explicit
    home = path_variable("PROJECTIONS_HOME", f"./{DEFAULT_HOME}") or Path(DEFAULT_HOME)
    candidate = home / "projections.toml"
    if candidate.is_dir():
        raise ConfigError(f"{candidate} is a directory; settings are read from a TOML file of that name: "
                          "remove the directory, or set PROJECTIONS_CONFIG to the settings file")
    if candidate.exists() and not candidate.is_file():  # a FIFO, a device: read it, or hang; pass it over, and the
        # settings a user wrote there would go unread without a word
        raise ConfigError(f"{candidate} is not a regular file; settings are read from a TOML file of that name: "
                          "replace it with one, or set PROJECTIONS_CONFIG to the settings file")
    return candidate if candidate.is_file() else None


# PROJECTIONS_* variables the code reads that are not settings; every other variable with the prefix must name a
# setting (settings.py refuses it otherwise, as it refuses an unknown key of the file).
NOT_SETTINGS = frozenset({
    "PROJECTIONS_CONFIG",  # where the settings file is (above)
    "PROJECTIONS_CACHE_DIR",  # the fast path's caches (fastpath.py)
    "PROJECTIONS_FAILPOINTS", "PROJECTIONS_FAILPOINT_MARK",  # failpoints.py: the reliability tests' kill points
    "PROJECTIONS_STATS",  # benchmarks: how much a doit run hashed (wiring.py)
    "PROJECTIONS_SHARED_DIR",  # the tests' shared data checkout (tests/net/faultserver.py)
})

# `key = 0o2775` (also 0x, 0b): tomllib hands such a literal over as a plain int, indistinguishable from one
# written in decimal, so the text says how it was written.
_PREFIXED_INT = re.compile(r"""(?<![\w-])["']?(\w+)["']?[ \t]*=[ \t]*(0[oxb][0-9a-fA-F_]+)\b""")


def prefixed_ints(text: str, keys: Collection[str]) -> dict[str, int]:
    """The values the TOML `text` gives the (lower-case) `keys` as 0o/0x/0b integer literals, by key."""
    found: dict[str, int] = {}
    for line in text.splitlines():
        for key, literal in _PREFIXED_INT.findall(line.split("#", 1)[0]):
            if key.lower() in keys:
                found[key.lower()] = int(literal.replace("_", ""), 0)
    return found


_HEADER = re.compile(r"""\s*\[\s*(["']?)([^\]"']*)\1\s*\]\s*(?:#.*)?""")


def salvage_table(text: str, name: str) -> dict[str, Any]:
    """Table `name` of a settings file that is not valid TOML as a whole, read from its own lines alone: `[name]`
    up to the next header, and `name.key = ...` or `name = {...}` lines before the first header. {} when the
    file has none; tomllib.TOMLDecodeError when those lines are broken too."""
    kept: list[str] = []
    section: str | None = ""  # "" is the top level; None an array of tables
    top_level = re.compile(rf"""\s*["']?{re.escape(name)}["']?\s*[.=]""", re.IGNORECASE)
    for line in text.splitlines():
        if line.lstrip().startswith("[["):
            section = None
            continue
        if (header := _HEADER.fullmatch(line)) is not None:
            section = header[2].strip().lower()
            if section == name:
                kept.append(f"[{name}]")
            continue
        if section == name or (section == "" and top_level.match(line)):
            kept.append(line)
    data = tomllib.loads("\n".join(kept))
    table: Any = next((value for key, value in data.items() if key.lower() == name), {})
    return table if isinstance(table, dict) else {}
