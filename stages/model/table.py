"""The calibration table: fitted parameters as rows (group, name, value), and typed access to them.

Groups:
  coef:<model>           regression coefficients of the minutes models (name = feature, "const")
  residual:<mode>:<band> minutes residual quantiles on simulate.RESIDUAL_GRID (name = "q00".."q40")
  scale:<mode>           slope of the mean correction of simulated DK points per calibration group (name =
                         fringe / starter / bench, see simulate.calibration_group)
  shift:<mode>           intercept of that correction (calibrated mean = shift + scale x simulated mean)
  dispersion:<mode>      spread of simulated DK points around their mean per calibration group
  scalar                 team_minutes, league_implied, pace_elasticity, sigma_game, sigma_team, ... (name)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from projections.contracts import Contract
from projections.errors import ContractViolation

TABLE = Contract(
    description="calibration parameters fitted on the prior season",
    columns={"group": "str", "name": "str", "value": "float"},
    non_null=("group", "name", "value"),
    unique=("group", "name"),
    min_rows=1,
)


def rows(group: str, values: Mapping[str, float]) -> list[dict[str, object]]:
    return [{"group": group, "name": k, "value": float(v)} for k, v in values.items()]


def quantile_names(n: int) -> list[str]:
    return [f"q{i:02d}" for i in range(n)]


@dataclass(frozen=True)
class Calibration:
    """Read access to a calibration table; a missing entry is a ContractViolation naming it."""

    frame: pd.DataFrame
    stage: str = "calibration"

    def group(self, group: str) -> dict[str, float]:
        sel = self.frame[self.frame["group"] == group]
        if sel.empty:
            raise ContractViolation(
                f"{self.stage}: the calibration table has no group {group!r} (groups: "
                f"{sorted(self.frame['group'].unique())[:12]}); rebuild it with `doit calibration date=...`",
                stage=self.stage, columns=("group",))
        return dict(zip(sel["name"], sel["value"].astype("float64"), strict=True))

    def scalar(self, name: str) -> float:
        return self.group("scalar")[name]

    def coefs(self, models: Sequence[str]) -> dict[str, dict[str, float]]:
        return {m: self.group(f"coef:{m}") for m in models}

    def residuals(self, mode: str) -> dict[str, np.ndarray]:
        prefix = f"residual:{mode}:"
        bands = sorted({g[len(prefix):] for g in self.frame["group"] if g.startswith(prefix)})
        out = {}
        for band in bands:
            values = self.group(prefix + band)
            out[band] = np.array([values[k] for k in sorted(values)])
        if not out:
            self.group(prefix + "b0")  # raises, naming what is missing
        return out
