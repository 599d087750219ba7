"""rosters, minutes, rates: availability, the minutes budget and per-minute rates on the tiny world."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from stages import PIPELINE
from tests.stages.conftest import (
    DAY,
    archive_injuries,
    archive_logs,
    archive_salaries,
    build_world,
    run_stage,
    synthetic_calibration,
)


def test_rosters_label_injury_outs_starters_and_bench(world: dict[str, Any]):
    r = world["rosters"].set_index("player_id")
    assert r.loc["NYK5", "status"] == "Out" and r.loc["NYK5", "availability"] == "out (injury report)"
    assert r.loc["BOS0", "availability"] == "confirmed starter" and bool(r.loc["BOS0", "starter"])
    assert r.loc["BOS5", "availability"] == "bench (lineup confirmed)" and r["lineup_known"].all()
    assert r.loc["BOS0", "team_games_before"] == 3 and r.loc["BOS0", "missed_streak"] == 0


def test_rosters_mark_a_player_absent_from_recent_team_games():
    logs = archive_logs()
    logs = logs[~((logs["player_id"] == "BOS5") & (logs["game_date"] > logs["game_date"].min()))]
    world = build_world(logs=logs, mode="none")
    r = world["rosters"].set_index("player_id")
    assert r.loc["BOS5", "missed_streak"] == 2 and r.loc["BOS5", "availability"] == "expected bench"
    p = world["minutes"].set_index("player_id")["p_play"]
    assert p["BOS5"] < p["BOS4"]


def test_minutes_starters_play_outs_do_not_and_the_team_budget_holds(world: dict[str, Any]):
    m = world["minutes"].set_index("player_id")
    assert (m.loc[[f"BOS{i}" for i in range(5)], "p_play"] == 1.0).all()
    assert m.loc["NYK5", "p_play"] == 0.0 and m.loc["NYK5", "proj_minutes"] == 0.0
    assert (m["proj_minutes"] <= 48).all() and set(m["mode"]) == {"confirmed"}
    # six players cannot fill 240 minutes; the budget pulls them up toward it without passing 48
    exp = m.groupby("team")["exp_minutes"].sum()
    raw = (m["p_play"] * m["raw_minutes"]).groupby(m["team"]).sum()
    assert ((exp > raw) & (exp < 6 * 48)).all()


def test_an_out_teammate_changes_who_plays_not_how_long_the_others_play_if_they_do():
    """NYK5 Out, lineups not known: he does not play, and the minutes he would have played go to his teammates'
    P(plays) (the team balance), not to their minutes if they play: the minutes regressions and the budget were
    fitted without injury statuses, and fed them they counted an absence twice (with a perfect report of who sits,
    November 2019 without lineups scored 2.4% worse than the baseline, minutes bias +2.5). BOS is untouched."""
    report = build_world(mode="none")["minutes"].set_index("player_id")
    silent = build_world(mode="none", injuries=archive_injuries().iloc[:0])["minutes"].set_index("player_id")
    nyk = [f"NYK{i}" for i in range(5)]
    assert report.loc["NYK5", "p_play"] == 0.0 < silent.loc["NYK5", "p_play"]
    for col in ("vacated", "raw_minutes", "proj_minutes"):
        np.testing.assert_allclose(report.loc[nyk, col], silent.loc[nyk, col], err_msg=col)
    assert (report.loc[nyk, "p_play"] >= silent.loc[nyk, "p_play"]).all()  # (five cannot fill 240: all near 1)
    bos = [f"BOS{i}" for i in range(6)]
    pd.testing.assert_frame_equal(report.loc[bos], silent.loc[bos])


def test_minutes_status_factors_scale_p_play_before_the_team_balance(world: dict[str, Any]):
    from stages.model import minutes_model
    from stages.model.table import Calibration

    frame = minutes_model.prepare(world["rosters"].merge(world["odds"][["team", "spread"]], on="team"))
    coefs = Calibration(world["calibration"]).coefs(("p_bench", "p_any", "min_starter", "min_bench", "min_any"))
    statuses = {"Out": 0.0, "Doubtful": 0.25}
    base = minutes_model.play_probability(frame.assign(status=""), coefs, rookie=0.3, status_play=statuses)
    doubtful = minutes_model.play_probability(frame.assign(status="Doubtful"), coefs, rookie=0.3,
                                              status_play=statuses)
    bench = ~frame["starter"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    np.testing.assert_allclose(doubtful[bench], 0.25 * base[bench])
    assert (doubtful[~bench] == 1.0).all()  # a confirmed starter plays whatever the report said
    # a status of the cleared kind scales the chance that he sits instead
    probable = minutes_model.play_probability(frame.assign(status="Probable"), coefs, rookie=0.3,
                                              status_play=statuses, status_sit={"Probable": 0.4})
    np.testing.assert_allclose(1 - probable[bench], 0.4 * (1 - base[bench]))
    # without a status, the model's P exactly (bit for bit: replays must not move in the last digit; 1 - (1 - 0.3)
    # is 0.30000000000000004)
    rookies = minutes_model.play_probability(frame.assign(status="", no_history=1.0), coefs, rookie=0.3,
                                             status_play=statuses, status_sit={"Probable": 0.4})
    assert (rookies[bench] == 0.3).all()
    assert (probable[~bench] == 1.0).all() and (probable[bench] > base[bench]).all()


def test_team_balance_makes_expected_minutes_meet_the_budget():
    from stages.model.minutes_model import balance_play

    frame = pd.DataFrame({"game_id": ["g"] * 10 + ["h"] * 2, "team": ["A"] * 10 + ["B"] * 2})
    p = np.array([1, 1, 1, 1, 1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5, 0.0])
    minutes = np.array([34, 34, 32, 30, 30, 24, 22, 20, 18, 15, 30, 0.0])
    out = balance_play(frame, p, minutes, budget=240)
    assert np.isclose((out * minutes)[:10].sum(), 240) and (out[:5] == 1).all() and (out[5:10] < p[5:10]).all()
    assert out[11] == 0.0 and out[10] > 0.99  # team B cannot reach the budget: its bench is pushed to ~1


def test_team_context_counts_the_rest_of_the_rotation_not_the_player():
    from stages.model.minutes_model import team_context

    frame = pd.DataFrame({"game_id": ["g"] * 4 + ["g"], "team": ["A"] * 4 + ["B"],
                          "role_starter": [1.0, 1.0, 0.0, 0.0, 1.0], "role_minutes": [34.0, 30.0, 20.0, 10.0, 36.0],
                          "min_avg0": [32.0, 28.0, 20.0, 10.0, 35.0]})
    p = np.array([1.0, 1.0, 0.8, 0.4, 1.0])
    out = team_context(frame, p)
    np.testing.assert_allclose(out["starters_role"], [3.0, 3.4, 6.4, 6.4, 0.0])  # other starters, in tens
    np.testing.assert_allclose(out["bench_expected"], [2.0, 2.0, 0.4, 1.6, 0.0])  # 0.8 x 20 and 0.4 x 10
    np.testing.assert_allclose(out["team_expected"], [8.0, 8.0, 8.0, 8.0, 3.5])
    np.testing.assert_allclose(out["bench_likely"], [1.0, 1.0, 1.0, 1.0, 0.0])  # only the 0.8 bench player


def test_vacated_position_weights_a_real_teams_open_minutes_by_position_overlap():
    """Sacramento on 2019-11-12 (real box scores and DK positions of 2019-20): De'Aaron Fox (PG, 1628368) sat.
    With P(plays) = whether each candidate played, `vacated_position` is the pairwise sum over teammates of the
    minutes they leave open times the overlap of the two primary positions (1 same, 0.5 adjacent, 0 further);
    Fox's minutes reach the other point guards in full, shooting guards by half, forwards and centers not at all."""
    from projections.archive import SHIPPED
    from stages.model import calibrate, minutes_model

    logs = pd.read_parquet(SHIPPED / "player_logs" / "2019-20.parquet")
    logs = logs[pd.to_datetime(logs["game_date"]) <= pd.Timestamp("2019-11-12")]
    cand = calibrate.candidates(logs)
    cand = cand[(pd.to_datetime(cand["game_date"]) == pd.Timestamp("2019-11-12")) & (cand["team"] == "SAC")]
    feats = calibrate.candidate_features(logs, cand)
    positions = calibrate._positions(pd.read_parquet(SHIPPED / "salaries" / "2019-20.parquet"))
    feats["position"] = feats["player_id"].map(positions).fillna("")
    frame = minutes_model.prepare(feats.assign(lineup_known=True, starter=feats["started"], spread=0.0))
    p = frame["played"].to_numpy(dtype="float64")
    out = minutes_model.vacated_position(frame, p)

    own = (frame["appear_share"] * frame["min_avg"].fillna(0) * (1 - p) * (1 - frame["no_history"])).to_numpy()
    pos = frame["position"].tolist()
    order = {"PG": 0, "SG": 1, "SF": 2, "PF": 3, "C": 4}
    pairwise = [sum(max(0.0, 1 - abs(order[pos[i]] - order[pos[j]]) / 2) * own[j]
                    for j in range(len(frame)) if j != i) / 10 for i in range(len(frame))]
    assert set(pos) <= set(order) and len(frame) >= 10
    np.testing.assert_allclose(out, pairwise)
    fox = frame.index[frame["player_id"] == "1628368"][0]
    assert not frame.loc[fox, "played"] and own[frame.index.get_loc(fox)] > 30  # a 33-minute starter sat
    fox_share = own[frame.index.get_loc(fox)] / 10
    others = own.sum() / 10 - fox_share
    mates = pd.Series(out, index=pos)[(frame.index != fox)]
    assert (mates.loc["PG"] >= fox_share).all() and (mates.loc[["PF", "C"]] <= others).all()
    assert mates.loc[["PF", "C"]].max() < mates.loc["SG"].min() < mates.loc["PG"].min()
    np.testing.assert_allclose(minutes_model.vacated(frame, p), (own.sum() - own) / 10)  # the team's, unweighted


def test_minutes_stage_weights_a_teammates_open_minutes_by_the_dk_positions(world: dict[str, Any]):
    """The stage reads the roster's DK positions as the calibration's fit does (the primary one): in the tiny world
    each team's bench SG/SF (primary SG, P(plays) 0.88 before statuses) is the only one who may leave minutes
    open; with a coefficient on `vacated_pos` the SG gains all of them, the PG and SF half, the PF and C none."""
    cal = synthetic_calibration()
    extra = pd.DataFrame([{"group": f"coef:{m}", "name": "vacated_pos", "value": 1.0}
                          for m in ("min_starter", "min_bench", "min_any")])
    frames = {"rosters": world["rosters"], "odds": world["odds"]}
    with_pos = run_stage(PIPELINE["minutes"], {**frames, "calibration": pd.concat([cal, extra], ignore_index=True)})
    gain = (with_pos.set_index("player_id")["raw_minutes"] - world["minutes"].set_index("player_id")["raw_minutes"])
    vacated = world["minutes"].set_index("player_id")["vacated"]
    for team in ("BOS", "NYK"):
        ids = [f"{team}{i}" for i in range(6)]
        assert vacated[f"{team}0"] > 0.1
        np.testing.assert_allclose(gain[ids] / vacated[f"{team}0"], [0.5, 1.0, 0.5, 0.0, 0.0, 0.0], atol=1e-12)


def test_minutes_without_lineups_use_expected_roles():
    world = build_world(mode="none")
    m = world["minutes"].set_index("player_id")
    assert set(m["mode"]) == {"none"} and not m["lineup_known"].any()
    assert m.loc["BOS0", "role"] == "expected starter" and m.loc["BOS5", "role"] == "expected bench"
    assert m.loc["BOS0", "p_play"] < 1.0  # not confirmed: only likely


def test_a_player_his_games_list_has_inactive_does_not_play_and_leaves_his_minutes_to_the_team(
        world: dict[str, Any]):
    """BOS5 (the bench player who plays about 19 minutes) listed inactive in the live box score: rosters rule him
    out whatever the injury report says, the minutes stage gives him p_play 0; his minutes reach his teammates
    through their P(plays) (the team balance; here every other BOS player is a confirmed starter already at 1), not
    through their minutes if they play, which the models fitted without inactive lists (a perfect inactive list of
    November 2019 scored DK MAE 7.49, bias +1.6, when they did; 7.29, bias 0.0, now)."""
    from stages import lineups as lineups_stage

    logs = archive_logs()
    box = logs[logs["game_date"] == DAY][["game_id", "team", "player_id", "started"]]
    live = box.rename(columns={"started": "starter"}).assign(status="ACTIVE").reset_index(drop=True)
    live.loc[live["player_id"] == "BOS5", "status"] = "INACTIVE"
    lineups = run_stage(PIPELINE["lineups"], {"box": box.iloc[:0], "live": live, "rotoguru": archive_salaries()[
        ["team", "player_id", "starter", "source"]].iloc[:0], "schedule": world["schedule"]},
        params=lineups_stage.Params())
    frames = {**world, "lineups": lineups}
    rosters = run_stage(PIPELINE["rosters"], {n: frames[n] for n in PIPELINE["rosters"].inputs})
    r = rosters.set_index("player_id")
    assert r.loc["BOS5", "inactive"] and r.loc["BOS5", "availability"] == "inactive (game's list)"
    assert r.loc["BOS5", "status"] == "" and not r.drop(index="BOS5")["inactive"].any()
    minutes = run_stage(PIPELINE["minutes"], {"rosters": rosters, "odds": world["odds"],
                                              "calibration": world["calibration"]}).set_index("player_id")
    before = world["minutes"].set_index("player_id")
    assert before.loc["BOS5", "p_play"] > 0.9 and minutes.loc["BOS5", "p_play"] == 0.0
    bos = [p for p in minutes.index if p.startswith("BOS") and p != "BOS5"]
    for col in ("vacated", "raw_minutes", "proj_minutes"):
        np.testing.assert_allclose(minutes.loc[bos, col], before.loc[bos, col], err_msg=col)
    assert (minutes.loc[bos, "p_play"] == 1.0).all() and minutes.loc["BOS5", "exp_minutes"] == 0.0
    nyk = [p for p in minutes.index if p.startswith("NYK")]
    pd.testing.assert_frame_equal(minutes.loc[nyk], before.loc[nyk])


def test_minutes_budget_strength_zero_leaves_raw_minutes(world: dict[str, Any]):
    cal = synthetic_calibration(strength=0.0)
    out = run_stage(PIPELINE["minutes"], {"rosters": world["rosters"], "odds": world["odds"],
                                          "calibration": cal})
    played = out[out["p_play"] > 0]
    np.testing.assert_allclose(played["proj_minutes"], played["raw_minutes"])


def test_rates_shrink_toward_the_position_and_follow_the_implied_total(world: dict[str, Any]):
    rates = world["rates"].set_index("player_id")
    assert set(rates["position"]) == {"PG", "SG", "SF", "PF", "C"}
    # BOS implied 113 > NYK 107: pace factors follow
    assert rates.loc["BOS0", "pace"] > 1.0 > rates.loc["NYK0", "pace"]
    for col in ("season_fg2_pct", "season_fg3_pct", "season_ft_pct"):
        assert rates[col].between(0, 1).all()
    # a player with no history gets his position's mean rate (times pace)
    rosters = world["rosters"].copy()
    idx = rosters.index[rosters["player_id"] == "BOS0"][0]
    rosters.loc[idx, "rate_minutes"] = np.nan
    for c in [c for c in rosters.columns if c.startswith("per_min_")]:
        rosters.loc[idx, c] = np.nan
    out = run_stage(PIPELINE["rates"], {"rosters": rosters, "minutes": world["minutes"],
                                        "game_logs": world["game_logs"], "odds": world["odds"],
                                        "calibration": world["calibration"]}).set_index("player_id")
    assert out.loc["BOS0", "rate_reb"] != rates.loc["BOS0", "rate_reb"]
    pg = world["game_logs"].merge(pd.DataFrame({"player_id": ["BOS0", "NYK0"]}))
    pg_reb = pg["reb"].sum() / pg["minutes"].sum()
    assert np.isclose(out.loc["BOS0", "rate_reb"], pg_reb * out.loc["BOS0", "pace"])


def test_rates_rise_with_the_usage_an_out_teammate_leaves_open(world: dict[str, Any]):
    """NYK5 is Out: his usual production is vacated for his NYK teammates only, and with gamma > 0 their
    rates rise by 1 + gamma (vacated - mean)."""
    rates = world["rates"].set_index("player_id")
    nyk, bos = [f"NYK{i}" for i in range(5)], [f"BOS{i}" for i in range(6)]
    assert (rates.loc[nyk, "vacated_usage"] > 0.05).all() and (rates.loc[bos, "vacated_usage"] < 0.05).all()
    cal = world["calibration"].copy()
    cal.loc[(cal["group"] == "usage:confirmed") & (cal["name"] == "gamma"), "value"] = 0.5
    out = run_stage(PIPELINE["rates"], {"rosters": world["rosters"], "minutes": world["minutes"],
                                        "game_logs": world["game_logs"], "odds": world["odds"],
                                        "calibration": cal}).set_index("player_id")
    np.testing.assert_allclose(out.loc[nyk, "usage"], 1 + 0.5 * rates.loc[nyk, "vacated_usage"])
    assert (out.loc[nyk, "rate_ast"] > rates.loc[nyk, "rate_ast"]).all()
