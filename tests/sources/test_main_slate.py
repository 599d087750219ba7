"""The slate the engine locks on and the slate the projections use are the same one.

`projections.sources.inbox.main_slate_lock` (the engine's lock: the DraftKings main slate's first tip) and
`stages.salaries._main_slate` (the slate the projections use) each pick "the slate with most teams, then most
players". They live apart on purpose: a rule in stages/ is part of the salaries stage's code version, while the
engine must not import stages. This keeps them from drifting apart: on every date with several real DraftKings
files, in either order, both pick the same slate.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from projections.sources.files import BadFile
from projections.sources.inbox import main_slate_lock, read_dk
from stages.salaries import _main_slate
from tests.conftest import SHARED

DK = SHARED / "salaries" / "dk"


def _dates_with_several_files() -> dict[str, list[Path]]:
    by_day: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(DK.glob("*.csv")):
        if path.name != "MANIFEST.csv":
            by_day[path.name[:10]].append(path)
    return {day: paths for day, paths in by_day.items() if len(paths) > 1}


@pytest.mark.parametrize("day", sorted(_dates_with_several_files()))
def test_the_lock_is_the_first_tip_of_the_slate_the_projections_use(day: str, tmp_path: Path) -> None:
    frames = []
    for path in _dates_with_several_files()[day]:
        try:
            frames.append(read_dk(tmp_path, path.read_bytes(), path.name)[1])
        except BadFile:  # a showdown or a preseason export: no classic slate to pick
            continue
    slates = {f["slate_id"].iloc[0] for f in frames}
    if len(slates) < 2:
        pytest.skip(f"{day}: fewer than two classic slates among its files")
    for order in itertools.permutations(frames):
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
