"""The packages the code needs, against those this Python has.

After a `git pull` that adds a dependency, an editable install still runs the new code in the old environment:
every stage would fail on its import, each failure blaming the stage. `check()` refuses the run up front, naming
each missing package and the one fix (`pip install -e <checkout>`). The code's own declaration is read: the
checkout's pyproject.toml when the package runs from one (the installed metadata is as old as the install),
else the installed distribution's metadata. A run checks presence only (find_spec, ~1 ms for all of them), so a
no-op run stays cheap; `projections doctor` also checks the installed versions against the declared bounds
(`outdated()`: a pull that raised a bound leaves the old version installed, which imports fine and then fails
somewhere deep).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from projections.errors import ConfigError

IMPORT_NAMES = {"pydantic-settings": "pydantic_settings"}  # distribution name -> module, where they differ
_NAME = re.compile(r"[A-Za-z0-9._-]+")


def checkout() -> Path | None:
    """The source checkout this package runs from (an editable install), or None (an installed wheel)."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").is_file() and (root / "projections").is_dir() else None


def declared() -> list[str]:
    """The distribution names of the code's required dependencies (extras excluded)."""
    return [m[0] for spec in specs() if (m := _NAME.match(spec))]


def specs() -> list[str]:
    """The code's required dependencies as declared (`numpy>=1.26`; extras excluded)."""
    root = checkout()
    if root is not None:
        import tomllib

        try:
            project = tomllib.loads((root / "pyproject.toml").read_text()).get("project", {})
        except (OSError, ValueError):
            project = {}
        if project.get("name") == "projections":
            return [str(spec) for spec in project.get("dependencies", [])]
    from importlib import metadata

    try:
        requires = metadata.requires("projections") or []
    except metadata.PackageNotFoundError:
        return []
    return [spec for spec in requires if "extra ==" not in spec]


def missing() -> list[str]:
    """The declared dependencies this Python cannot import."""
    gone = []
    for name in declared():
        module = IMPORT_NAMES.get(name.lower(), name.replace("-", "_").lower())
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            gone.append(name)
    return gone


def outdated() -> list[str]:
    """The declared dependencies installed at a version outside their bounds: `numpy 1.25.0 (needs >=1.26)`."""
    from importlib import metadata

    from packaging.requirements import InvalidRequirement, Requirement

    found = []
    for spec in specs():
        try:
            req = Requirement(spec)
            if req.marker is not None and not req.marker.evaluate():
                continue
            version = metadata.version(req.name)
        except (InvalidRequirement, metadata.PackageNotFoundError):
            continue  # an unreadable declaration is pip's to refuse; a missing package is `missing()`'s
        if req.specifier and not req.specifier.contains(version, prereleases=True):
            found.append(f"{req.name} {version} (needs {req.specifier})")
    return found


def install_command() -> str:
    root = checkout()
    return f"{sys.executable} -m pip install -e {root}" if root else f"{sys.executable} -m pip install projections"


def check() -> None:
    """ConfigError naming every package the code needs that this Python lacks, and the command that installs
    them."""
    gone = missing()
    if gone:
        raise ConfigError(f"this Python lacks {len(gone)} package(s) the code needs: {', '.join(gone)} (the code "
                          f"changed since it was installed, e.g. by a git pull); install them with "
                          f"`{install_command()}`")
