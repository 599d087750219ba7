"""No leakage: nothing of the slate date (or later) reaches a projection of it, except the starters.

Run on the real archive for 2019-11-05 (game logs of 2018-19 and 2019-20, the real salary list and lines),
with the stage functions called as the engine calls them. The date's box-score stats are then scrambled,
later games removed or added, and bench rows of the date dropped from the lineup source: every projection
must stay bit-identical. Flipping a starter flag (the one thing known at lock) must change something.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from projections.archive import SHIPPED
from projections.schema import STAT_COLUMNS
from stages import PIPELINE
from tests.stages.conftest import NO_LIVE, real_calibration, run_stage

DAY = dt.date(2019, 11, 5)


def _table(table: str, *seasons: str) -> pd.DataFrame:
    return pd.concat([pd.read_parquet(SHIPPED / table / f"{s}.parquet") for s in seasons], ignore_index=True)


@pytest.fixture(scope="module")
def archive() -> dict[str, pd.DataFrame]:
    return {"logs": _table("player_logs", "2018-19", "2019-20"), "schedule": _table("schedule", "2019-20"),
            "salaries": _table("salaries", "2019-20"), "odds": _table("odds", "2019-20"),
            "injuries": _table("injuries", "2019-20")}


def _project(archive: dict[str, pd.DataFrame], calibration: pd.DataFrame, logs: pd.DataFrame) -> dict[str, Any]:
    day = logs[logs["game_date"] == DAY]
    out: dict[str, Any] = {"calibration": calibration}
    out["schedule"] = run_stage(PIPELINE["schedule"], {"archive": archive["schedule"]}, day=DAY)
    out["salaries"] = run_stage(PIPELINE["salaries"], {"archive": archive["salaries"][
        archive["salaries"]["game_date"] == DAY], "schedule": out["schedule"]}, day=DAY)
    # what the engine's sources load: "before" for game_logs, the date's (game_id, team, player_id, started)
    out["game_logs"] = run_stage(PIPELINE["game_logs"], {"archive": logs[logs["game_date"] < DAY]}, day=DAY)
    out["odds"] = run_stage(PIPELINE["odds"], {"archive": archive["odds"], "schedule": out["schedule"],
                                               "game_logs": out["game_logs"]}, day=DAY)
    out["injuries"] = run_stage(PIPELINE["injuries"], {"report": archive["injuries"].iloc[:0]}, day=DAY)
    rotoguru = archive["salaries"][archive["salaries"]["game_date"] == DAY][["team", "player_id", "starter", "source"]]
    out["lineups"] = run_stage(PIPELINE["lineups"], {"box": day[["game_id", "team", "player_id", "started"]],
                                                     "live": NO_LIVE, "rotoguru": rotoguru,
                                                     "schedule": out["schedule"]}, day=DAY)
    for name in ("rosters", "minutes", "rates", "sim", "ownership", "gold"):
        params = PIPELINE["sim"].params_model()(draws=500) if name == "sim" else None
        out[name] = run_stage(PIPELINE[name], {n: out[n] for n in PIPELINE[name].inputs}, params=params, day=DAY)
    return out


@pytest.fixture(scope="module")
def calibration() -> pd.DataFrame:
    return real_calibration()


@pytest.fixture(scope="module")
def reference(archive: dict[str, pd.DataFrame], calibration: pd.DataFrame) -> dict[str, Any]:
    return _project(archive, calibration, archive["logs"])


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    for name in ("rosters", "minutes", "rates", "sim", "ownership"):
        pd.testing.assert_frame_equal(a[name], b[name], obj=name)
    pd.testing.assert_frame_equal(a["gold"]["projections.parquet"], b["gold"]["projections.parquet"])


def test_the_dates_box_score_stats_do_not_reach_any_projection(archive, calibration, reference):
    logs = archive["logs"].copy()
    on_day = logs["game_date"] == DAY
    rng = np.random.default_rng(1)
    for col in (*STAT_COLUMNS, "minutes", "dk_points", "plus_minus"):
        logs.loc[on_day, col] = rng.permutation(logs.loc[on_day, col].to_numpy())
    _same(reference, _project(archive, calibration, logs))


def test_later_games_and_bench_rows_of_the_date_do_not_reach_any_projection(archive, calibration, reference):
    logs = archive["logs"]
    bench_of_day = (logs["game_date"] == DAY) & ~logs["started"].astype(bool)
    trimmed = logs[(logs["game_date"] <= DAY) & ~bench_of_day]
    _same(reference, _project(archive, calibration, trimmed))


def test_the_starters_known_at_lock_do_matter(archive, calibration, reference):
    logs = archive["logs"].copy()
    starters = logs.index[(logs["game_date"] == DAY) & logs["started"].astype(bool)]
    bench = logs.index[(logs["game_date"] == DAY) & ~logs["started"].astype(bool)]
    swap_out, swap_in = starters[0], bench[bench.isin(logs.index[logs["team"] == logs.loc[starters[0], "team"]])][0]
    logs.loc[swap_out, "started"], logs.loc[swap_in, "started"] = False, True
    changed = _project(archive, calibration, logs)
    a = reference["minutes"].set_index("player_id")["proj_minutes"]
    b = changed["minutes"].set_index("player_id")["proj_minutes"]
    pid_in = logs.loc[swap_in, "player_id"]
    assert b[pid_in] > a[pid_in] + 3


def test_the_slate_is_sane_on_real_data(reference):
    slate = reference["gold"]["projections.parquet"]
    assert len(slate) == 198  # the real DraftKings file of 2019-11-05
    exp = slate.groupby("team")["exp_minutes"].sum()
    assert exp.between(225, 255).all(), exp
    assert np.isclose(slate["ownership"].sum(), 800)
