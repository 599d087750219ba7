"""The slate the engine locks on and the slate the projections use are the same one.

`projections.sources.inbox.main_slate_lock` (the engine's lock: the DraftKings main slate's first tip) and
`stages.salaries._main_slate` (the slate the projections use) each pick "the slate with most teams, then most
players". They live apart on purpose: a rule in stages/ is part of the salaries stage's code version, while the
engine must not import stages. This keeps them from drifting apart: on every date with several real DraftKings
files, in either order, both pick the same slate.
"""

from __future__ import annotations

import itertools
import tempfile
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from projections.sources.files import BadFile
from projections.sources.inbox import main_slate_lock, read_dk
from stages.salaries import _main_slate
from tests.conftest import SHARED

DK = SHARED / "salaries" / "dk"


def _classic_slates() -> dict[str, list[pd.DataFrame]]:
    """Per date with two or more classic DraftKings slates among the real files, their frames (read with a data root
    that does not exist: the shipped archive alone; nothing is written). Showdown and preseason exports are
    refused by read_dk and left out."""
    nowhere = Path(tempfile.gettempdir()) / "projections-main-slate-test-no-root"
    by_day: dict[str, list[pd.DataFrame]] = defaultdict(list)
    for path in sorted(DK.glob("*.csv")):
        if path.name == "MANIFEST.csv":
            continue
        try:
            by_day[path.name[:10]].append(read_dk(nowhere, path.read_bytes(), path.name)[1])
        except BadFile:
            continue
    return {day: frames for day, frames in by_day.items()
            if len({f["slate_id"].iloc[0] for f in frames}) > 1}


SEVERAL = _classic_slates()


def test_the_real_files_hold_dates_with_several_slates() -> None:
    assert {"2018-11-25", "2020-08-10"} <= set(SEVERAL), sorted(SEVERAL)  # the cases below are not vacuous


@pytest.mark.parametrize("day", sorted(SEVERAL))
def test_the_lock_is_the_first_tip_of_the_slate_the_projections_use(day: str) -> None:
    for order in itertools.permutations(SEVERAL[day]):
        frame = pd.concat(order, ignore_index=True)
        used = _main_slate(frame, ("dk",))
        assert main_slate_lock(frame) == pd.to_datetime(used["tip_time"], utc=True).min().to_pydatetime(), day


@pytest.mark.parametrize("case", ["fewer players, same teams", "more players, fewer teams"])
def test_ties_and_trade_offs_are_broken_the_same_way(case: str, tmp_path: Path) -> None:
    path = DK / "2019-11-01__bradical1379__DKSalaries__f09c750c.csv"
    main = read_dk(tmp_path, path.read_bytes(), path.name)[1]
    other = main.assign(slate_id="dk-other", tip_time=pd.to_datetime(main["tip_time"], utc=True) + pd.Timedelta("1h"))
    if case == "fewer players, same teams":
        other = other.groupby("team").head(5)
    else:  # one team fewer, every other team's players twice over (more rows in all)
        other = pd.concat([other[other["team"] != other["team"].iloc[0]]] * 2, ignore_index=True)
    for order in ((main, other), (other, main)):
        frame = pd.concat(order, ignore_index=True)
        used = _main_slate(frame, ("dk",))
        assert used["slate_id"].iloc[0] != "dk-other"
        assert main_slate_lock(frame) == pd.to_datetime(used["tip_time"], utc=True).min().to_pydatetime()
