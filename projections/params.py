"""Base models for stage parameters (pydantic: imported only where a stage's params are built)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class NoParams(BaseModel):
    """Params model for a stage that takes none."""

    model_config = ConfigDict(frozen=True, extra="forbid")
