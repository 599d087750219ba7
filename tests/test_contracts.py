from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from projections.contracts import Contract
from projections.errors import ContractViolation

C = Contract(columns={"player_id": "str", "salary": "int", "dk_mean": "float", "game_date": "date"},
             non_null=("player_id",), unique=("player_id",), min_rows=1)


def frame(**over):
    base = {"player_id": ["a", "b"], "salary": [3000, 4000], "dk_mean": [10.5, 20.0],
            "game_date": [dt.date(2019, 10, 30)] * 2}
    base.update(over)
    return pd.DataFrame(base)


def check(df):
    C.check(df, stage="minutes", role="input 'salaries'", origin="(object 3f2a9c1e00)", fix="re-import it")


def test_a_good_frame_passes_and_ints_may_stand_for_floats():
    check(frame())
    check(frame(dk_mean=[10, 20]))


def test_missing_column_names_stage_object_columns_and_fix():
    with pytest.raises(ContractViolation) as info:
        check(frame().drop(columns=["salary"]))
    msg = str(info.value)
    assert "minutes" in msg and "3f2a9c1e00" in msg and "['salary']" in msg and "re-import it" in msg
    assert info.value.columns == ("salary",)


def test_wrong_dtype_is_named():
    with pytest.raises(ContractViolation, match=r"salary.*str \(wanted int\)"):
        check(frame(salary=["3000", "4000"]))


def test_nulls_duplicates_and_empty_frames():
    with pytest.raises(ContractViolation, match="null value"):
        check(frame(player_id=["a", None]))
    with pytest.raises(ContractViolation, match="share the key"):
        check(frame(player_id=["a", "a"]))
    with pytest.raises(ContractViolation, match="fewer than the 1"):
        check(frame().iloc[0:0])


def test_not_a_frame():
    with pytest.raises(ContractViolation, match="not a DataFrame"):
        check([1, 2])
