"""`projections evaluate A..B [--json]`: projections of built slates against the real box scores.

Minutes and DraftKings-points MAE (and RMSE, bias) over players who played, against a naive baseline (each
player's last-10-game average) on the same rows, the share of actual DK points inside the p10-p90 and
p25-p75 bands, per tier and overall, with a date-clustered standard error of the change. The slates must
be built first: `doit slate date=A..B`.
"""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    from projections import evaluate

    p = sub.add_parser("evaluate", help="projections of built slates against the actual box scores",
                       description=__doc__)
    evaluate.add_arguments(p)
    p.set_defaults(handler=evaluate.run)
