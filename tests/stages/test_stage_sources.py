"""schedule, salaries, game_logs, odds, injuries, lineups: the stages that read the archive."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from projections.errors import ContractViolation, SourceError
from stages import PIPELINE
from stages import lineups as lineups_stage
from stages.lineups import lineup_meta
from stages.schedule import lock_of
from tests.stages.conftest import (
    DAY,
    NO_LIVE,
    archive_injuries,
    archive_logs,
    archive_odds,
    archive_salaries,
    archive_schedule,
    run_stage,
)


def test_schedule_keeps_the_date_and_its_lock_is_the_first_tip():
    out = run_stage(PIPELINE["schedule"], {"archive": archive_schedule()})
    assert list(out["game_date"]) == [DAY]
    assert lock_of(out)["lock"].startswith("2019-11-06T00:00:00")


def test_schedule_without_games_says_how_to_fix_it():
    with pytest.raises(SourceError, match=r"no NBA games on 2019-11-05.*ingest"):
        run_stage(PIPELINE["schedule"], {"archive": archive_schedule().iloc[:2]})


def test_salaries_take_opponent_and_game_from_the_schedule():
    schedule = run_stage(PIPELINE["schedule"], {"archive": archive_schedule()})
    out = run_stage(PIPELINE["salaries"], {"archive": archive_salaries(), "schedule": schedule})
    assert len(out) == 12 and set(out["opp"]) == {"BOS", "NYK"}
    assert (out["game_id"] == schedule["game_id"].iloc[0]).all()
    assert list(out["salary"]) == sorted(out["salary"], reverse=True)


def test_salaries_drop_a_postponed_game_but_refuse_another_dates_file():
    """2020-03-11: two games were postponed after salaries were set; their players leave the slate. A file
    most of whose teams do not play is another date's, and is refused."""
    schedule = run_stage(PIPELINE["schedule"], {"archive": archive_schedule()})
    salaries = archive_salaries()
    extra = salaries.head(2).assign(team="UTA", player_id=["x1", "x2"])
    out = run_stage(PIPELINE["salaries"], {"archive": pd.concat([salaries, extra]), "schedule": schedule})
    assert len(out) == 12 and "UTA" not in set(out["team"])
    foreign = pd.concat([salaries.assign(team="UTA"),
                         salaries.assign(team="OKC", player_id=lambda f: f.player_id + "o")])
    with pytest.raises(SourceError, match=r"do not play on .* belongs to another date"):
        run_stage(PIPELINE["salaries"], {"archive": foreign, "schedule": schedule})


def test_game_logs_never_hold_the_date_or_later():
    out = run_stage(PIPELINE["game_logs"], {"archive": archive_logs()})
    assert out["game_date"].max() < DAY and len(out) == 36


def _odds(archive: pd.DataFrame) -> pd.DataFrame:
    schedule = run_stage(PIPELINE["schedule"], {"archive": archive_schedule()})
    logs = run_stage(PIPELINE["game_logs"], {"archive": archive_logs()})
    return run_stage(PIPELINE["odds"], {"archive": archive, "schedule": schedule, "game_logs": logs})


def test_odds_give_each_team_its_spread_and_implied_total():
    out = _odds(archive_odds()).set_index("team")
    # NYK at home, +6 underdogs, total 220: 107 for NYK, 113 for BOS
    assert out.loc["NYK", "spread"] == 6.0 and out.loc["BOS", "spread"] == -6.0
    assert out.loc["NYK", "implied_total"] == 107.0 and out.loc["BOS", "implied_total"] == 113.0
    assert out["has_line"].all() and (out["total_source"] == "line").all()


def test_odds_without_a_line_keep_the_teams_with_nan():
    out = _odds(archive_odds().iloc[:0])
    assert len(out) == 2 and not out["has_line"].any() and out["implied_total"].isna().all()
    assert (out["total_source"] == "").all()


def test_a_spread_without_a_total_takes_the_total_from_the_teams_scoring():
    """The live odds feed quotes spreads, no totals. Each team's expected score is the mean of its points scored per
    game and its opponent's allowed (over the season so far, shrunk toward the league mean by score_prior_games):
    the tiny world's three earlier games, and the spread splits that total as a real one."""
    logs = archive_logs(include_day=False)
    games = logs.groupby(["game_id", "team", "opp"], as_index=False)["pts"].sum()
    league, k = games["pts"].mean(), 5.0
    scored = {t: (g["pts"].sum() + k * league) / (len(g) + k) for t, g in games.groupby("team")}
    allowed = {t: (g["pts"].sum() + k * league) / (len(g) + k) for t, g in games.groupby("opp")}
    expected = {"NYK": (scored["NYK"] + allowed["BOS"]) / 2, "BOS": (scored["BOS"] + allowed["NYK"]) / 2}
    out = _odds(archive_odds().assign(total=float("nan"))).set_index("team")
    assert (out["total_source"] == "scores").all() and not out["has_line"].any()
    assert out["total"].to_numpy() == pytest.approx([expected["NYK"] + expected["BOS"]] * 2)
    assert out.loc["NYK", "implied_total"] == pytest.approx(out.loc["NYK", "total"] / 2 - 6.0 / 2)
    assert out.loc["BOS", "implied_total"] - out.loc["NYK", "implied_total"] == pytest.approx(6.0)


def test_injuries_keep_each_players_newest_status():
    out = run_stage(PIPELINE["injuries"], {"report": archive_injuries()})
    assert out.to_dict("records")[0]["status"] == "Out" and len(out) == 1


def test_injuries_are_empty_where_no_report_exists():
    out = run_stage(PIPELINE["injuries"], {"report": archive_injuries().iloc[:0]})
    assert out.empty and list(out.columns)[:4] == ["team", "player_id", "player_name", "status"]


def test_injuries_reject_a_status_that_is_not_official():
    bad = archive_injuries().assign(status="Maybe")
    with pytest.raises(ContractViolation, match=r"injuries: statuses \['Maybe'\].*archive_build"):
        run_stage(PIPELINE["injuries"], {"report": bad})


def _lineups(box: pd.DataFrame, rotoguru: pd.DataFrame | None = None, mode: str = "confirmed",
             live: pd.DataFrame = NO_LIVE) -> pd.DataFrame:
    schedule = run_stage(PIPELINE["schedule"], {"archive": archive_schedule()})
    rotoguru = archive_salaries()[["team", "player_id", "starter", "source"]].iloc[:0] if rotoguru is None \
        else rotoguru
    return run_stage(PIPELINE["lineups"], {"box": box, "live": live, "rotoguru": rotoguru, "schedule": schedule},
                     params=lineups_stage.Params(mode=mode))  # type: ignore[arg-type]


def _box() -> pd.DataFrame:
    logs = archive_logs()
    return logs[logs["game_date"] == DAY][["game_id", "team", "player_id", "started"]]


def test_lineups_take_only_the_starters_of_the_box_score():
    out = _lineups(_box())
    assert out["confirmed"].all() and len(out) == 10 and out["starter"].all()
    assert "BOS5" not in set(out["player_id"]) and "NYK5" not in set(out["player_id"])
    assert lineup_meta(out) == {"mode": "confirmed", "roles": "confirmed", "teams_confirmed": 2, "teams": 2,
                                "sources": ["box_score"], "inactive": 0}
    assert not out["inactive"].any()


def test_lineups_do_not_reveal_who_else_played():
    """A bench row present or absent in the date's box score changes nothing: only starters are used."""
    box = _box()
    without_bench = box[box["started"]]
    pd.testing.assert_frame_equal(_lineups(box), _lineups(without_bench))


def test_lineups_fall_back_to_the_salary_files_starters():
    box = _box()
    only_nyk = box[box["team"] == "NYK"]
    out = _lineups(only_nyk, archive_salaries()[["team", "player_id", "starter", "source"]])
    sources = out.groupby("team")["source"].first().to_dict()
    assert sources == {"BOS": "salary_file", "NYK": "box_score"}


def test_lineups_say_when_the_dates_box_scores_do_not_say_who_started():
    """An ingested stats.nba.com season has no starter flags: the stage confirmed no team and said nothing, the
    slate built on guessed roles, and only `projections evaluate` (lineup_modes "none") told. Its note names the
    season's fetch that brings the flags; a flagged box score, or the salary files' starters, need none."""
    box = _box()
    out = _lineups(box.assign(started=pd.array([pd.NA] * len(box), dtype="boolean")))
    meta = lineup_meta(out)
    assert meta["roles"] == "expected" and meta["note"].startswith("starters not confirmed: the 2019-20 game logs "
                                                                   "do not say who started")
    assert "`projections ingest game-logs --fetch 2019-20 --replace`" in meta["note"]
    assert "note" not in lineup_meta(_lineups(box)) and "note" not in lineup_meta(_lineups(box.iloc[:0]))
    unflagged = box.assign(started=pd.array([pd.NA] * len(box), dtype="boolean"))
    covered = _lineups(unflagged, archive_salaries()[["team", "player_id", "starter", "source"]])
    assert lineup_meta(covered)["roles"] == "confirmed" and "note" not in lineup_meta(covered)


def test_lineups_in_live_mode_come_from_the_live_box_scores_and_say_when_none_is_known():
    """Live mode fetched box scores but no stage read them: every live slate had 0 teams confirmed, its meta said
    mode "confirmed", and the minutes used expected roles with no word of it."""
    box = _box()
    live = _live(box, set())
    out = _lineups(box.iloc[:0], live=live)
    assert out["confirmed"].all() and set(out["source"]) == {"live_box_score"} and len(out) == 10
    assert lineup_meta(out)["roles"] == "confirmed"
    half = _lineups(box.iloc[:0], live=live[live["team"] == "NYK"])
    assert lineup_meta(half)["roles"] == "confirmed for 1 of 2"
    none = lineup_meta(_lineups(box.iloc[:0]))
    assert none["mode"] == "confirmed" and none["roles"] == "expected" and none["teams_confirmed"] == 0


def _live(box: pd.DataFrame, inactive: set[str]) -> pd.DataFrame:
    """The live box scores of the date: everyone who played ACTIVE, plus `inactive` (player ids) INACTIVE."""
    live = box.rename(columns={"started": "starter"}).assign(status="ACTIVE")
    listed = pd.DataFrame({"game_id": live["game_id"].iloc[0], "team": [pid[:3] for pid in sorted(inactive)],
                           "player_id": sorted(inactive), "starter": False, "status": "INACTIVE"})
    return pd.concat([live, listed], ignore_index=True)


def test_lineups_keep_the_players_a_live_box_score_lists_inactive():
    """A team's inactive list, in its game's live box score before tip, is kept (`inactive`); the players who
    are active (played or not) are not, and neither is a starter the feed also marks inactive."""
    box = _box()
    live = _live(box, {"BOS7", "NYK9"})
    out = _lineups(box.iloc[:0], live=live)
    listed = out[out["inactive"]]
    assert sorted(listed["player_id"]) == ["BOS7", "NYK9"]
    assert not listed["starter"].any() and listed["confirmed"].all() and set(listed["source"]) == {"live_box_score"}
    assert (~out["inactive"]).sum() == 10 and lineup_meta(out)["inactive"] == 2
    assert lineup_meta(out)["teams_confirmed"] == 2
    starter = str(box.loc[box["started"], "player_id"].iloc[0])
    contradictory = live.copy()
    contradictory.loc[contradictory["player_id"] == starter, "status"] = "INACTIVE"
    assert starter not in set(_lineups(box.iloc[:0], live=contradictory).query("inactive")["player_id"])
    # a team whose starters are not out yet still has its inactive list read; mode none reads nothing
    partial = _lineups(box.iloc[:0], live=live[(live["team"] == "NYK") | ~live["starter"]])
    assert set(partial.query("inactive")["player_id"]) == {"BOS7", "NYK9"}
    assert not partial.query("inactive & team == 'BOS'")["confirmed"].any()
    assert not _lineups(box.iloc[:0], live=live, mode="none")["inactive"].any()


def test_lineups_mode_none_confirms_no_team_and_says_so():
    out = _lineups(_box(), mode="none")
    assert not out["confirmed"].any() and out["player_id"].isna().all() and len(out) == 2
    assert lineup_meta(out)["mode"] == "none" and lineup_meta(out)["teams_confirmed"] == 0


def test_lineups_with_an_incomplete_team_leave_it_unconfirmed():
    box = _box()
    box = box[~((box["team"] == "BOS") & (box["player_id"] == "BOS0"))]
    out = _lineups(box)
    assert set(out.loc[out["confirmed"], "team"]) == {"NYK"}


def test_schedule_stage_for_another_date_is_empty_of_games():
    with pytest.raises(SourceError):
        run_stage(PIPELINE["schedule"], {"archive": archive_schedule()}, day=dt.date(2019, 11, 6))


def test_a_stray_row_of_a_game_not_on_the_slate_is_dropped():
    """rotoguru 2020-01-25 prices one DAL player (Justin Patton) of UTA@DAL, a game the main slate did not
    offer (every other DAL and UTA row is listed unpriced): alone on his team, he took its whole minutes budget
    and was published at 48 minutes, 47 DK points and 200% ownership."""
    import datetime as dt

    import pyarrow.parquet as pq

    from projections.archive import SHIPPED

    day = dt.date(2020, 1, 25)

    def shipped(table: str) -> pd.DataFrame:
        return pq.read_table(SHIPPED / table / "2019-20.parquet", filters=[("game_date", "=", day)]).to_pandas()

    schedule = run_stage(PIPELINE["schedule"], {"archive": shipped("schedule")}, day=day)
    archive = shipped("salaries")
    assert (archive["team"] == "DAL").sum() == 1 and "UTA" not in set(archive["team"])
    out = run_stage(PIPELINE["salaries"], {"archive": archive, "schedule": schedule}, day=day)
    assert "DAL" not in set(out["team"]) and out["team"].nunique() == 8
    assert len(out) == len(archive) - 1
    assert PIPELINE["salaries"].meta is not None
    said = PIPELINE["salaries"].meta(out)["note"]
    assert said == "1 priced player(s) left off the slate: DAL alone priced in its game"


def test_players_of_a_game_postponed_after_salaries_were_set_leave_the_slate_with_a_note(tmp_path) -> None:
    """2020-03-11: the daily table prices NOP@SAC and OKC@UTA, postponed that evening (the schedule has neither).
    Their 66 players leave the slate, and the run says so (the note reaches the run's output and the ledger):
    before, they went silently."""
    from tests.conftest import run_doit

    result = run_doit(tmp_path / "home", "salaries", "date=2020-03-11")
    assert result.returncode == 0, result.stdout + result.stderr
    said = ("note: 66 priced player(s) left off the slate: NOP, OKC, SAC, UTA not on the date's schedule (games "
            "postponed after salaries were set)")
    assert said in result.stdout, result.stdout
    from projections.ledger import Ledger

    [event] = [e for e in Ledger(tmp_path / "home").read(event="stage_success") if e["stage"] == "salaries"]
    assert event["note"] == said.removeprefix("note: ") and event["rows"] == 198 - 66, event


def test_on_the_real_season_the_stand_in_total_follows_the_closing_total() -> None:
    """Every game of November 2019 (real schedule, box scores before each date, closing lines with the totals taken
    away, as the live feed serves them): the stand-in totals are nearer the closing totals than the league's mean
    total is, and each date's implied totals still sum to its total (the spread splits it)."""
    from projections.archive import SHIPPED

    logs = pd.concat([pd.read_parquet(SHIPPED / "player_logs" / f"{s}.parquet") for s in ("2018-19", "2019-20")])
    schedule = pd.read_parquet(SHIPPED / "schedule" / "2019-20.parquet")
    lines = pd.read_parquet(SHIPPED / "odds" / "2019-20.parquet")
    rows = []
    for day in sorted({d for d in schedule["game_date"] if dt.date(2019, 11, 1) <= d <= dt.date(2019, 11, 30)}):
        frames = {"schedule": run_stage(PIPELINE["schedule"], {"archive": schedule}, day=day),
                  "game_logs": run_stage(PIPELINE["game_logs"], {"archive": logs[logs["game_date"] < day]}, day=day),
                  "archive": lines[lines["game_date"] == day].assign(total=float("nan"))}
        out = run_stage(PIPELINE["odds"], frames, day=day).assign(game_date=day)
        rows.append(out[out["home"]].merge(lines[["game_date", "home_team", "total"]].rename(
            columns={"home_team": "team", "total": "closing"}), on=["game_date", "team"]))
    games = pd.concat(rows, ignore_index=True)
    assert len(games) > 200 and (games["total_source"] == "scores").all()
    error = (games["total"] - games["closing"]).abs().mean()
    flat = (games["closing"].mean() - games["closing"]).abs().mean()
    assert error < 0.8 * flat, (error, flat)
