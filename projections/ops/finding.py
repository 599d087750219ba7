"""A finding of `projections doctor`: its severity, which check made it, where, what, and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "ok"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    check: str
    where: str
    message: str
    fix: str = ""
