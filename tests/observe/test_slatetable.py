"""The slate table's cells, formatted a whole column at a time, are the cells `cell` makes one value at a time."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from projections.observe import slatetable


@pytest.mark.parametrize("col, values", [
    ("salary", pd.Series([3000, 10400, 5500], dtype="int64")),
    ("dk_mean", pd.Series([12.345, np.nan, 0.0, -1.5])),
    ("ownership", pd.Series([0.05, 12.5, np.nan])),
    ("actual_minutes", pd.Series([31.6, np.nan], dtype="float32")),
    ("salary", pd.Series([3000, pd.NA], dtype="Int64")),
    ("player_name", pd.Series(["D'Angelo Russell", "Nikola Jokić", None, "<b>A & B</b>"], dtype="str")),
    ("player_name", pd.Series(["Luka Dončić", np.nan, 7, True], dtype="object")),
    ("status", pd.Series([True, False], dtype="bool")),
])
def test_a_columns_cells_are_its_values_cells(col: str, values: pd.Series):
    assert slatetable.column_cells(col, values) == [slatetable.cell(col, v) for v in values.tolist()]


def test_names_are_escaped_and_numbers_keep_their_value():
    frame = pd.DataFrame({"player_id": ["a", "b"], "player_name": ["D'Angelo Russell", "<i>x</i>"],
                          "salary": [8900, 3000], "dk_mean": [38.7, np.nan]})
    html = slatetable.slate_table(frame)
    assert "<td>D&#x27;Angelo Russell</td>" in html and "&lt;i&gt;x&lt;/i&gt;" in html and "<i>" not in html
    assert '<td class="num" data-v="8900.0">$8,900</td><td class="num" data-v="38.7">38.70</td>' in html
    assert '<td class="na" data-v="">-</td>' in html
