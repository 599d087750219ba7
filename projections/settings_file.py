"""Where the settings TOML file is (stdlib only, so the fast path can key its cache on it)."""

from __future__ import annotations

import os
from pathlib import Path

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
    return candidate if candidate.is_file() else None
