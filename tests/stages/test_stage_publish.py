"""sim, ownership, gold: distributions, ownership that sums to 800, the published slate and its CSV."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from stages import PIPELINE
from tests.stages.conftest import run_stage


def _sim(world: dict[str, Any], seed: int = 7, draws: int = 2000) -> pd.DataFrame:
    return run_stage(PIPELINE["sim"], {"minutes": world["minutes"], "rates": world["rates"],
                                       "calibration": world["calibration"]},
                     params=PIPELINE["sim"].params_model()(draws=draws), seed=seed)


def test_sim_is_bit_identical_for_its_inputs_whatever_the_key(world: dict[str, Any]):
    """The draws are seeded from the game's rows, not from the stage key (ctx.seed): the same inputs give the same
    bytes under any key, and other inputs other numbers."""
    pd.testing.assert_frame_equal(_sim(world), _sim(world))
    pd.testing.assert_frame_equal(_sim(world), _sim(world, seed=8))
    rates = world["rates"].assign(rate_reb=world["rates"]["rate_reb"] * 1.01)
    moved = run_stage(PIPELINE["sim"], {"minutes": world["minutes"], "rates": rates,
                                        "calibration": world["calibration"]},
                      params=PIPELINE["sim"].params_model()(draws=2000))
    assert not moved["dk_p50"].equals(_sim(world)["dk_p50"])


def _two_games(world: dict[str, Any]) -> pd.DataFrame:
    """The world's game (NYK-BOS) and a second one (LAL-LAC) whose players are the same numbers under other names."""
    players = world["minutes"].merge(world["rates"], on="player_id")
    other = players.assign(game_id="0021999999", team=players["team"].map({"NYK": "LAL", "BOS": "LAC"}),
                           player_id="X" + players["player_id"])
    return pd.concat([players, other], ignore_index=True)


def test_a_games_numbers_are_its_own_whatever_the_other_games_hold(world: dict[str, Any]):
    """A later game's news (its starters after the first tip) rebuilds the slate's simulation; the games already
    under way must keep their numbers bit for bit: each game draws from its own seed, however far the other
    games' rates reach (the Poisson table grows with them; a row of it depends on its lambda alone). The second
    game, the same numbers under another game id and teams, draws other numbers. Kills: one generator for the
    whole slate; the seed from the rows' numbers alone (the twin game would draw alike)."""
    from stages.model import simulate

    players = _two_games(world)
    kwargs = {"residuals": {b: np.linspace(-8, 8, len(simulate.RESIDUAL_GRID)) for b in players["band"].unique()},
              "sigma_game": 0.08, "sigma_team": 0.06, "draws": 500}
    active = players[players["proj_minutes"] > 0].reset_index(drop=True)
    first = active["game_id"] != "0021999999"
    both = simulate.draw_points(active, **kwargs)
    alone = simulate.draw_points(active[first].reset_index(drop=True), **kwargs)
    assert np.array_equal(both[first.to_numpy()], alone)
    hotter = active.copy()
    hotter.loc[~first, "rate_fg3m"] *= 6.0  # the slate's largest lambda grows far beyond the first game's
    changed = simulate.draw_points(hotter, **kwargs)
    assert np.array_equal(changed[first.to_numpy()], both[first.to_numpy()])
    assert not np.array_equal(changed[~first.to_numpy()], both[~first.to_numpy()])
    assert not np.array_equal(both[first.to_numpy()], both[~first.to_numpy()])


def test_sim_quantiles_are_ordered_and_outs_are_zero(world: dict[str, Any]):
    s = world["sim"].set_index("player_id")
    q = s[["dk_p10", "dk_p25", "dk_p50", "dk_p75", "dk_p90"]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all() and (s["dk_sd"] >= 0).all()
    assert (s.loc["NYK5", ["dk_mean", "dk_sd", "dk_p10", "dk_p90"]] == 0).all()
    assert (s.drop(index="NYK5")["dk_mean"] > 5).all()


def test_sim_mean_follows_minutes_and_rates(world: dict[str, Any]):
    minutes = world["minutes"].copy()
    minutes.loc[minutes["player_id"] == "BOS0", "proj_minutes"] *= 0.5
    out = run_stage(PIPELINE["sim"], {"minutes": minutes, "rates": world["rates"],
                                      "calibration": world["calibration"]},
                    params=PIPELINE["sim"].params_model()(draws=2000)).set_index("player_id")
    base = world["sim"].set_index("player_id")
    assert out.loc["BOS0", "dk_mean"] < 0.7 * base.loc["BOS0", "dk_mean"]


def test_ownership_sums_to_800_and_follows_value(world: dict[str, Any]):
    own = world["ownership"].set_index("player_id")
    assert np.isclose(own["ownership"].sum(), 800.0) and own.loc["NYK5", "ownership"] == 0.0
    salaries = world["salaries"].copy()
    salaries.loc[salaries["player_id"] == "BOS1", "salary"] = 3000  # same projection, much cheaper
    cheaper = run_stage(PIPELINE["ownership"], {"salaries": salaries, "minutes": world["minutes"],
                                                "sim": world["sim"]}).set_index("player_id")
    assert cheaper.loc["BOS1", "ownership"] > own.loc["BOS1", "ownership"]
    assert np.isclose(cheaper["ownership"].sum(), 800.0)


def test_gold_has_one_row_per_dk_player_and_a_draftkings_csv(world: dict[str, Any]):
    gold = world["gold"]
    slate = gold["projections.parquet"]
    assert len(slate) == len(world["salaries"]) and slate["player_id"].is_unique
    assert list(slate["dk_mean"]) == sorted(slate["dk_mean"], reverse=True)
    for col in ("player_name", "team", "opp", "positions", "salary", "status", "proj_minutes", "dk_mean", "dk_sd",
                "dk_p10", "dk_p25", "dk_p50", "dk_p75", "dk_p90", "ownership"):
        assert col in slate.columns
    csv = gold["dk_projections.csv"]
    assert csv.splitlines()[0] == "Position,Name + ID,Name,ID,Roster Position,Salary,Game Info,TeamAbbrev," \
                                  "AvgPointsPerGame"
    assert len(csv.splitlines()) == len(slate) + 1


def test_no_player_is_owned_by_more_than_every_lineup(world: dict[str, Any]):
    """Each slot handed out its 100% on its own, so a cheap player eligible for SF/PF/F/UTIL could reach 400%
    (11 of 89 real 2019-20 slates published someone above 100%, up to 175% on a two-game slate)."""
    salaries = world["salaries"].copy()
    salaries.loc[salaries["player_id"] == "BOS1", "salary"] = 3000  # value far above everyone's
    params = PIPELINE["ownership"].params_model()(value_weight=5.0)
    own = run_stage(PIPELINE["ownership"], {"salaries": salaries, "minutes": world["minutes"], "sim": world["sim"]},
                    params=params).set_index("player_id")
    assert np.isclose(own.loc["BOS1", "ownership"], 100.0)
    assert (own["ownership"] <= 100.0 + 1e-9).all() and np.isclose(own["ownership"].sum(), 800.0)


def test_capped_shares_keep_their_order_and_total():
    from stages.ownership import capped

    share = np.array([250.0, 150.0, 90.0, 80.0, 60.0, 50.0, 40.0, 30.0, 30.0, 20.0, 0.0])
    out = capped(share)
    assert np.isclose(out.sum(), 800.0) and out.max() == 100.0 and out[-1] == 0.0
    assert (np.diff(out) <= 1e-12).all() and out[2] > share[2]  # the rest scaled up alike
    assert capped(np.array([400.0, 400.0])).tolist() == [100.0, 100.0]  # two players cannot fill eight spots
    small = np.array([100.0] * 8)
    assert capped(small) is small
    # shares spanning 200 orders of magnitude (weights at their bounds): a bisection over the scale stopped far
    # from it, and a real slate summed to 21,424% with 214 players at 100%
    wide = capped(np.array([300.0, 200.0, 150.0, 100.0, 40.0] + [0.01] * 1000 + [1e-200]))
    assert np.isclose(wide.sum(), 800.0) and wide.max() <= 100.0 and (wide[:5] == 100.0).all()
