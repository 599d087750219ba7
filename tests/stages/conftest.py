"""A tiny world for stage tests: one slate date, one game (BOS at NYK), six players a team, three earlier games.

`world()` runs every stage of the pipeline on inline archive frames, as the engine would: each input is
checked against its upstream stage's contract and each output against the stage's own, so any stage's test
can take valid inputs from it. `synthetic_calibration()` stands in for the season fit (fast, round numbers).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from projections.hashing import seed_from
from projections.pipeline import Stage, StageContext
from projections.schema import STAT_COLUMNS
from stages import PIPELINE
from stages.model.simulate import BAND_EDGES, RESIDUAL_GRID, SIM_STATS
from stages.model.table import quantile_names

DAY = dt.date(2019, 11, 5)
LOCK = dt.datetime(2019, 11, 6, 0, 0, tzinfo=dt.UTC)
TEAMS = ("BOS", "NYK")
POSITIONS = (("PG", "PG/G/UTIL"), ("SG", "SG/G/UTIL"), ("SF", "SF/F/UTIL"), ("PF", "PF/F/UTIL"),
             ("C", "C/UTIL"), ("SG/SF", "SG/SF/G/F/UTIL"))
OBJECT = "xxh3-128:3f2a000000000000000000000000beef"


def ctx(stage: str, day: dt.date = DAY, *, seed: int = 7, scope: str = "date") -> StageContext:
    return StageContext(stage=stage, seed=seed, key=f"test-{stage}", season="2019-20", scope=scope,  # type: ignore[arg-type]
                        _game_date=day, _as_of=LOCK, uses_as_of=PIPELINE[stage].uses_as_of)


def player_id(team: str, i: int) -> str:
    return f"{team}{i}"


def archive_schedule(day: dt.date = DAY) -> pd.DataFrame:
    rows = []
    for k, d in enumerate([day - dt.timedelta(days=6), day - dt.timedelta(days=4), day - dt.timedelta(days=2), day]):
        rows.append({"season": "2019-20", "game_date": d, "game_id": f"00219{k:05d}", "home_team": "NYK",
                     "away_team": "BOS", "tip_time": pd.Timestamp(d).tz_localize("UTC") + pd.Timedelta(hours=24),
                     "tip_time_source": "default", "playoffs": False, "status": "final"})
    frame = pd.DataFrame(rows)
    frame["tip_time"] = pd.to_datetime(frame["tip_time"], utc=True)
    return frame


def archive_logs(day: dt.date = DAY, *, include_day: bool = True) -> pd.DataFrame:
    """Box scores of the three earlier games and of `day` itself (its stats must never reach a projection)."""
    rng = np.random.default_rng(0)
    rows = []
    sched = archive_schedule(day)
    for _, game in sched.iterrows():
        if game["game_date"] == day and not include_day:
            continue
        for team, opp, home in (("NYK", "BOS", True), ("BOS", "NYK", False)):
            for i in range(6):
                minutes = float([36, 34, 32, 30, 28, 20][i] + rng.integers(-3, 4))
                stats = {c: int(rng.integers(0, 4)) for c in STAT_COLUMNS}
                stats["fga"] = stats["fgm"] + int(rng.integers(2, 9))
                stats["fg3a"] = stats["fg3m"] + int(rng.integers(0, 4))
                stats["fgm"] = max(stats["fgm"], stats["fg3m"])
                stats["fga"] = max(stats["fga"], stats["fg3a"], stats["fgm"])
                stats["fta"] = stats["ftm"] + int(rng.integers(0, 3))
                stats["pts"] = 2 * stats["fgm"] + stats["fg3m"] + stats["ftm"]
                stats["reb"] = stats["oreb"] + stats["dreb"]
                rows.append({"season": "2019-20", "game_date": game["game_date"], "game_id": game["game_id"],
                             "team": team, "opp": opp, "home": home, "playoffs": False,
                             "player_id": player_id(team, i), "player_name": f"{team} Player {i}", "started": i < 5,
                             "minutes": minutes, **stats, "plus_minus": 0.0, "dk_points": float(stats["pts"] * 1.5)})
    return pd.DataFrame(rows)


def archive_salaries(day: dt.date = DAY) -> pd.DataFrame:
    rows = []
    for team, opp in (("NYK", "BOS"), ("BOS", "NYK")):
        for i in range(6):
            pos, roster = POSITIONS[i]
            rows.append({"season": "2019-20", "game_date": day, "slate_id": f"rotoguru-{day}", "source": "rotoguru",
                         "dk_id": None, "player_id": player_id(team, i), "player_name": f"{team} Player {i}",
                         "team": team, "opp": opp, "positions": pos, "roster_positions": roster,
                         "salary": 9000 - 1000 * i, "starter": i < 5, "tip_time": pd.NaT, "avg_points": None})
    return pd.DataFrame(rows)


def archive_odds(day: dt.date = DAY) -> pd.DataFrame:
    return pd.DataFrame([{"season": "2019-20", "game_date": d, "home_team": "NYK", "away_team": "BOS",
                          "spread_home": 6.0, "total": 220.0, "moneyline_home": 200.0, "moneyline_away": -240.0,
                          "score_home": 105.0, "score_away": 112.0, "playoffs": False}
                         for d in archive_schedule(day)["game_date"]])


def archive_injuries(day: dt.date = DAY) -> pd.DataFrame:
    times = pd.to_datetime(["2019-11-05 15:00", "2019-11-05 21:00"], utc=True)
    return pd.DataFrame([
        {"season": "2019-20", "report_time": times[0], "game_date": day, "team": "NYK", "player_id": "NYK5",
         "player_name": "NYK Player 5", "status": "Questionable", "reason": "Ankle"},
        {"season": "2019-20", "report_time": times[1], "game_date": day, "team": "NYK", "player_id": "NYK5",
         "player_name": "NYK Player 5", "status": "Out", "reason": "Ankle"},
    ])


def synthetic_calibration(*, strength: float = 0.3) -> pd.DataFrame:
    """Round-number calibration: minutes = role minutes, P(plays) from appearances, symmetric residuals."""
    rows: list[dict[str, Any]] = []

    def add(group: str, values: dict[str, float]) -> None:
        rows.extend({"group": group, "name": k, "value": float(v)} for k, v in values.items())

    scalars = {"team_minutes": 240.0, "league_implied": 110.0, "pace_elasticity": 0.3, "sigma_game": 0.08,
               "sigma_team": 0.06, "shrink_minutes": 60.0, "budget_strength": strength, "rookie_p_play": 0.3,
               "rotation_minutes": 15.0, "fit_rows": 1000.0,
               **{f"league_{s}": r for s, r in zip(SIM_STATS, (0.12, 0.05, 0.07, 0.19, 0.10, 0.03, 0.02, 0.06),
                                                   strict=True)}}
    add("scalar", scalars)
    add("coef:p_bench", {"const": -2.0, "appear_share": 4.0})
    add("coef:p_any", {"const": -2.0, "appear_share": 4.0})
    add("coef:min_starter", {"const": 0.0, "role_minutes": 1.0, "vacated": 1.0})
    add("coef:min_bench", {"const": 0.0, "role_minutes": 1.0, "vacated": 1.0})
    add("coef:min_any", {"const": 0.0, "min_avg0": 1.0, "vacated": 1.0})
    for mode in ("confirmed", "none"):
        for band in range(len(BAND_EDGES) + 1):
            add(f"residual:{mode}:b{band}", dict(zip(quantile_names(len(RESIDUAL_GRID)),
                                                     np.linspace(-6, 6, len(RESIDUAL_GRID)), strict=True)))
        add(f"scale:{mode}", {"starter": 1.0, "bench": 1.0, "fringe": 1.0})
        add(f"shift:{mode}", {"starter": 0.0, "bench": 0.0, "fringe": 0.0})
        add(f"usage:{mode}", {"gamma": 0.0, "mean": 0.0})
        add(f"dispersion:{mode}", {"starter": 1.0, "bench": 1.0, "fringe": 1.0})
    return pd.DataFrame(rows)


def run_stage(spec: Stage, frames: dict[str, pd.DataFrame], *, params: Any = None, day: dt.date = DAY,
              seed: int = 7) -> Any:
    """Call a stage as the engine does: inputs checked against their upstream contracts, output checked."""
    for name in spec.inputs:
        upstream = PIPELINE[name]
        if upstream.contract is not None:
            upstream.contract.check(frames[name], stage=spec.name, role=f"input {name!r}",
                                    origin=f"(object {OBJECT[9:19]})",
                                    fix=f"rebuild it with `doit {name} date={day}` or fix {name}.py")
    for source in spec.sources:
        contract = getattr(source, "contract", None)
        if contract is not None:
            contract.check(frames[source.name], stage=spec.name, role=f"source {source.name!r}",
                           origin="(archive)", fix="re-import the source data")
    params = params if params is not None else spec.params_model()()
    result = spec.func(**{n: frames[n] for n in [*spec.inputs, *(s.name for s in spec.sources)]},
                       params=params, ctx=ctx(spec.name, day, seed=seed))
    main = result[spec.main] if isinstance(result, dict) else result
    if spec.contract is not None:
        spec.contract.check(main, stage=spec.name, role="output", origin="(test)", fix=f"fix {spec.name}.py")
    return result


def build_world(*, logs: pd.DataFrame | None = None, mode: str = "confirmed",
                calibration: pd.DataFrame | None = None, injuries: pd.DataFrame | None = None) -> dict[str, Any]:
    """Every stage's output for the tiny world (a dict stage -> frame; gold -> its dict of files); `injuries`: the
    report in place of the world's (NYK5 Questionable, then Out)."""
    from stages import lineups as lineups_stage

    logs = archive_logs() if logs is None else logs
    out: dict[str, Any] = {}
    out["schedule"] = run_stage(PIPELINE["schedule"], {"archive": archive_schedule()})
    out["salaries"] = run_stage(PIPELINE["salaries"], {"archive": archive_salaries(), "schedule": out["schedule"]})
    out["game_logs"] = run_stage(PIPELINE["game_logs"], {"archive": logs})
    out["calibration"] = synthetic_calibration() if calibration is None else calibration
    out["odds"] = run_stage(PIPELINE["odds"], {"archive": archive_odds(), "schedule": out["schedule"],
                                               "game_logs": out["game_logs"]})
    out["injuries"] = run_stage(PIPELINE["injuries"], {"report": archive_injuries() if injuries is None else injuries})
    box = logs[logs["game_date"] == DAY][["game_id", "team", "player_id", "started"]]
    out["lineups"] = run_stage(PIPELINE["lineups"], {"box": box, "live": NO_LIVE, "rotoguru": archive_salaries()[
        ["team", "player_id", "starter", "source"]], "schedule": out["schedule"]},
        params=lineups_stage.Params(mode=mode))  # type: ignore[arg-type]
    for name in ("rosters", "minutes", "rates", "sim", "ownership", "gold"):
        frames = {n: out[n] for n in PIPELINE[name].inputs}
        params = PIPELINE["sim"].params_model()(draws=2000) if name == "sim" else None
        out[name] = run_stage(PIPELINE[name], frames, params=params)
    return out


# the lineups stage's live box scores (live mode only): none
NO_LIVE = pd.DataFrame({"game_id": pd.Series(dtype=object), "team": pd.Series(dtype=object),
                        "player_id": pd.Series(dtype=object), "starter": pd.Series(dtype=bool),
                        "status": pd.Series(dtype=object)})

_REAL: dict[str, pd.DataFrame] = {}


def real_calibration() -> pd.DataFrame:
    """The calibration stage on the shipped 2018-19 archive (fewer simulated rows than the default, so it
    takes about two seconds); computed once per test session."""
    if "table" not in _REAL:
        from projections.archive import SHIPPED

        spec = PIPELINE["calibration"]
        context = StageContext(stage="calibration", seed=11, key="test", season="2019-20", scope="season")
        _REAL["table"] = spec.func(logs=pd.read_parquet(SHIPPED / "player_logs" / "2018-19.parquet"),
                                   lines=pd.read_parquet(SHIPPED / "odds" / "2018-19.parquet"),
                                   positions=pd.read_parquet(SHIPPED / "salaries" / "2018-19.parquet"),
                                   params=spec.params_model()(sample_rows=1000, draws=100), ctx=context)
    return _REAL["table"]


@pytest.fixture(scope="session")
def world() -> dict[str, Any]:
    return build_world()


def ctx_seed(key: str) -> int:
    return seed_from(key)
