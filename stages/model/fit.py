"""Small, dependency-free estimators: least absolute deviations, logistic regression, design matrices.

Coefficients travel as plain `dict[str, float]` keyed by feature name ("const" for the intercept), so the
calibration stage can store them as rows of a table and the daily stages can read them back by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

CONST = "const"


def design(frame: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    """The intercept column followed by `features`, as float64."""
    cols = [np.ones(len(frame))] + [frame[f].to_numpy(dtype="float64") for f in features]
    return np.column_stack(cols)


def predict(frame: pd.DataFrame, coefs: Mapping[str, float]) -> np.ndarray:
    """Linear predictor of `coefs` (as returned by the fits) on `frame`."""
    features = [k for k in coefs if k != CONST]
    beta = np.array([coefs.get(CONST, 0.0)] + [coefs[k] for k in features])
    return design(frame, features) @ beta


def _named(features: Sequence[str], beta: np.ndarray) -> dict[str, float]:
    return {CONST: float(beta[0]), **{f: float(b) for f, b in zip(features, beta[1:], strict=True)}}


def lad_fit(frame: pd.DataFrame, features: Sequence[str], target: str, *, iterations: int = 40,
            floor: float = 0.5) -> dict[str, float]:
    """Least absolute deviations (a median regression) by iteratively reweighted least squares. A feature that
    does not vary over the rows (a spread never known: fitted without betting lines), or that is a linear
    combination of the features before it (position-weighted vacated minutes where no position is known: half the
    team's), gets coefficient 0: it could not be told from the others, and the weighted system would be singular."""
    full = design(frame, features)
    varying = np.r_[True, np.ptp(full[:, 1:], axis=0) > 0] if len(full) else np.ones(full.shape[1], dtype=bool)
    varying &= _independent(full)
    x = full[:, varying]
    y = frame[target].to_numpy(dtype="float64")
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    for _ in range(iterations):
        w = 1.0 / np.maximum(np.abs(y - x @ beta), floor)
        beta = np.linalg.solve(x.T @ (x * w[:, None]), x.T @ (w * y))
    out = np.zeros(full.shape[1])
    out[varying] = beta
    return _named(features, out)


def _independent(x: np.ndarray) -> np.ndarray:
    """Which columns of `x` are not linear combinations of the columns before them (in order): in x = QR, R's
    diagonal is the part of each column orthogonal to the ones before it, about 0 (relative to the column's length)
    for one that adds nothing."""
    if not len(x):
        return np.ones(x.shape[1], dtype=bool)
    r = np.linalg.qr(x, mode="r")
    return np.abs(np.diag(r)) > 1e-9 * np.maximum(np.linalg.norm(x, axis=0), 1e-300)


def ols_fit(frame: pd.DataFrame, features: Sequence[str], target: str) -> dict[str, float]:
    """Ordinary least squares (a mean regression)."""
    beta = np.linalg.lstsq(design(frame, features), frame[target].to_numpy(dtype="float64"), rcond=None)[0]
    return _named(features, beta)


def logistic_fit(frame: pd.DataFrame, features: Sequence[str], target: str, *, ridge: float = 1e-2,
                 iterations: int = 30) -> dict[str, float]:
    """Logistic regression by Newton steps with a small ridge penalty (keeps separable data finite)."""
    x = design(frame, features)
    y = frame[target].to_numpy(dtype="float64")
    beta = np.zeros(x.shape[1])
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-(x @ beta)))
        hess = x.T @ (x * (p * (1 - p))[:, None]) + ridge * np.eye(len(beta))
        beta = beta + np.linalg.solve(hess, x.T @ (y - p) - ridge * beta)
    return _named(features, beta)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))
