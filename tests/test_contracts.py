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


def test_floats_never_stand_for_ints_nor_ints_for_text():
    """Only one way: an int column may stand where floats are wanted, not a float column where ints are (3.5
    minutes is no salary), and no number where text is."""
    with pytest.raises(ContractViolation, match=r"salary.*float \(wanted int\)"):
        check(frame(salary=[3000.5, 4000.0]))
    with pytest.raises(ContractViolation, match=r"player_id.*int \(wanted str\)"):
        check(frame(player_id=[1, 2]))


def test_dates_and_timestamps_are_told_apart_in_every_form_they_come_in():
    """A game date where a tip time is wanted (or the other way) is a different thing, whether the column is
    Arrow-backed (read from parquet), numpy datetime64 or Python objects; object booleans are bools."""
    import pyarrow as pa

    day, tip = dt.date(2019, 10, 30), dt.datetime(2019, 10, 30, 23, 0, tzinfo=dt.UTC)
    forms = {
        "arrow_date": (pd.Series([day], dtype=pd.ArrowDtype(pa.date32())), "date"),
        "arrow_ts": (pd.Series([tip], dtype=pd.ArrowDtype(pa.timestamp("us", tz="UTC"))), "timestamp"),
        "numpy_ts": (pd.Series([tip]), "timestamp"),
        "object_date": (pd.Series([day], dtype=object), "date"),
        "object_ts": (pd.Series([tip], dtype=object), "timestamp"),
        "object_bool": (pd.Series([True], dtype=object), "bool"),
    }
    table = pd.DataFrame({name: series for name, (series, _) in forms.items()})
    kinds = {name: kind for name, (_, kind) in forms.items()}
    Contract(columns=kinds).check(table, stage="s", role="output", origin="", fix="fix it")
    other = {"date": "timestamp", "timestamp": "date", "bool": "str"}
    for name, kind in kinds.items():
        with pytest.raises(ContractViolation, match=rf"{name}': '{kind} \(wanted {other[kind]}\)"):
            Contract(columns={name: other[kind]}).check(table, stage="s", role="output", origin="", fix="fix it")


def test_a_closed_contract_names_the_columns_it_does_not_know():
    closed = Contract(columns={"player_id": "str"}, extra_columns_ok=False)
    with pytest.raises(ContractViolation, match=r"unexpected columns \['salary'\]") as info:
        closed.check(pd.DataFrame({"player_id": ["a"], "salary": [1]}), stage="s", role="output", origin="",
                     fix="fix it")
    assert info.value.columns == ("salary",)


def test_a_contract_that_names_what_it_does_not_declare_is_refused_where_it_is_written():
    with pytest.raises(ValueError, match=r"unknown dtype kinds \{'salary': 'integer'\}"):
        Contract(columns={"salary": "integer"})
    with pytest.raises(ValueError, match="contract names column 'minutes' that is not declared"):
        Contract(columns={"salary": "int"}, non_null=("minutes",))
    with pytest.raises(ValueError, match=r"columns \['minutes'\] are not in the contract"):
        C.restricted(("player_id", "minutes"))
    assert C.restricted(("player_id", "salary")).columns == {"player_id": "str", "salary": "int"}


def test_each_dtype_gets_its_kind_whether_or_not_it_takes_the_fast_path():
    """numpy dtypes and pandas' string dtype are told from the dtype alone (the predicates cost a check of every
    column of every frame a build reads and writes); text columns that hold only nulls fit any kind."""
    import numpy as np

    from projections.contracts import _kind_of

    kinds = {
        "int": [pd.Series([1, 2]), pd.Series([1], dtype="uint8"), pd.Series([1, None], dtype="Int64")],
        "float": [pd.Series([1.0, np.nan]), pd.Series([1.5], dtype="Float64")],
        "bool": [pd.Series([True]), pd.Series([True, None], dtype="boolean")],
        "timestamp": [pd.Series(pd.to_datetime(["2020-01-01"])), pd.Series(pd.to_datetime(["2020-01-01"], utc=True)),
                      pd.Series([dt.datetime(2020, 1, 1, tzinfo=dt.UTC)], dtype=object)],
        "date": [pd.Series([dt.date(2020, 1, 1)])],
        "str": [pd.Series(["a", None]), pd.Series([None, "b"], dtype="string"), pd.Series(["a"], dtype=object)],
        "empty": [pd.Series([None, None], dtype="str"), pd.Series([], dtype="str"), pd.Series([None], dtype="string"),
                  pd.Series([None], dtype=object)],
        "any": [pd.Series([pd.Timedelta(1)]), pd.Series([1 + 2j]), pd.Series(pd.Categorical(["a"]))],
    }
    assert {kind: [_kind_of(s) for s in series] for kind, series in kinds.items()} == \
        {kind: [kind] * len(series) for kind, series in kinds.items()}


def test_a_restricted_contract_keeps_the_checks_its_columns_still_carry():
    """A source that loads only some columns (projections.archive) is checked by the contract restricted to them:
    the uniqueness and non-null rules over the kept columns still hold; a rule over a dropped column goes."""
    kept = C.restricted(("player_id", "salary"))
    assert (kept.unique, kept.non_null, kept.min_rows) == (("player_id",), ("player_id",), 1)
    with pytest.raises(ContractViolation, match=r"2 rows share the key \['player_id'\]"):
        kept.check(pd.DataFrame({"player_id": ["a", "a"], "salary": [3000, 4000]}), stage="minutes",
                   role="input 'salaries'", origin="(object 3f2a9c1e00)", fix="re-import it")
    assert C.restricted(("salary",)).unique == ()
