"""The dashboard's slate table: one row per player, sortable (numbers carry their value in `data-v`) and
filterable by the page's script. Cells are formatted a whole column at a time: a `pd.isna` and a type test per
cell were a quarter of a season's report."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from projections.observe.slatediff import percent

if TYPE_CHECKING:
    import pandas as pd

TABLE_COLUMNS = ("player_name", "team", "opp", "positions", "salary", "status", "proj_minutes", "dk_mean", "dk_sd",
                 "dk_p10", "dk_p25", "dk_p50", "dk_p75", "dk_p90", "ownership", "actual_dk", "actual_minutes")
HEADINGS = {"player_name": "player", "proj_minutes": "minutes", "dk_mean": "proj", "dk_sd": "sd",
            "dk_p10": "p10", "dk_p25": "p25", "dk_p50": "p50", "dk_p75": "p75", "dk_p90": "p90",
            "ownership": "own", "actual_dk": "actual", "actual_minutes": "act min", "positions": "pos"}
NA_CELL = '<td class="na" data-v="">-</td>'


def _number_text(col: str, number: float) -> str:
    if col == "salary":
        return f"${number:,.0f}"
    if col == "ownership":
        return percent(number)
    if col == "actual_minutes":
        return f"{number:.0f}"
    return f"{number:.2f}"


def cell(col: str, value: Any) -> str:
    """One cell of any value: `-` for a missing one, text escaped, a number formatted for its column."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return NA_CELL
    if isinstance(value, bool | str):
        return f"<td>{escape(str(value))}</td>"
    number = float(value)
    return f'<td class="num" data-v="{number!r}">{_number_text(col, number)}</td>'


def column_cells(col: str, series: pd.Series) -> list[str]:
    """The cells of a whole column, as `cell` makes them one by one: a plain float or integer column is formatted
    from its Python floats (NaN is the only missing value there), a text column escapes its strings; any other
    value goes through `cell`."""
    import math

    import numpy as np

    if isinstance(series.dtype, np.dtype) and series.dtype.kind in "iuf":  # not Int64 & co: pd.NA is no float
        out = []
        for number in series.astype("float64").tolist():
            if math.isnan(number):
                out.append(NA_CELL)
            else:
                out.append(f'<td class="num" data-v="{number!r}">{_number_text(col, number)}</td>')
        return out
    return [f"<td>{escape(value)}</td>" if isinstance(value, str) else cell(col, value) for value in series.tolist()]


def slate_table(slate: pd.DataFrame) -> str:
    """The slate (`plots.with_actuals`: with the box scores' actual points and minutes, when there are any), best
    projection first, as a sortable table with a filter box."""
    frame = slate
    if "dk_mean" in frame.columns:
        frame = frame.sort_values("dk_mean", ascending=False, kind="stable")
    cols = [c for c in TABLE_COLUMNS if c in frame.columns]
    numeric = {c for c in cols if frame[c].dtype.kind in "if"}
    head = "".join(f'<th data-type="{"num" if c in numeric else "text"}" title="{escape(c)}">'
                   f"{escape(HEADINGS.get(c, c))}</th>" for c in cols)
    columns = [column_cells(c, frame[c]) for c in cols]
    rows = ["<tr>" + "".join(cells) + "</tr>" for cells in zip(*columns, strict=True)] if columns else \
        ["<tr></tr>"] * len(frame)
    missing = [c for c in ("status", "dk_p10", "dk_p90", "ownership") if c not in frame.columns]
    note = f'<p class="muted">not in this slate yet: {", ".join(missing)}</p>' if missing else ""
    return (f'<div class="table-tools"><input type="search" id="slate-filter" placeholder="filter players, teams, '
            f'positions" aria-label="filter the slate"> <span id="slate-count">{len(frame)} players</span></div>'
            f'{note}<div class="scroll"><table id="slate" class="sortable"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>")
