"""Where the settings TOML file is (stdlib only, so the fast path can key its cache on it)."""

from __future__ import annotations

import os
from pathlib import Path

from projections.errors import ConfigError


def config_file() -> Path | None:
    """`$PROJECTIONS_CONFIG`, else `<home>/projections.toml` when it exists, else None."""
    explicit = os.environ.get("PROJECTIONS_CONFIG")
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise ConfigError(f"PROJECTIONS_CONFIG={explicit} does not exist; point it at a TOML file or unset it")
        return path
    home = Path(os.environ.get("PROJECTIONS_HOME", "outputs")).expanduser()
    candidate = home / "projections.toml"
    return candidate if candidate.is_file() else None
