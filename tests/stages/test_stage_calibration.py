"""calibration: the season fit on the prior season's real logs and lines."""

from __future__ import annotations

import pandas as pd
import pytest

from projections.errors import SourceError
from projections.pipeline import StageContext
from stages import PIPELINE
from stages.model.calibrate import candidates
from stages.model.table import TABLE, Calibration
from tests.stages.conftest import archive_logs, archive_odds, archive_salaries, real_calibration


def test_calibration_is_season_scoped_and_reads_only_the_prior_season():
    spec = PIPELINE["calibration"]
    assert spec.scope == "season" and not spec.inputs
    assert all(source.seasons == (1,) for source in spec.sources)


def test_calibration_without_a_prior_season_says_what_to_import():
    spec = PIPELINE["calibration"]
    ctx = StageContext(stage="calibration", seed=1, key="k", season="2018-19", scope="season")
    with pytest.raises(SourceError, match=r"holds 0 games of the season before 2018-19 \(needs 300\); fetch its "
                                          r"game logs with `projections ingest game-logs --fetch 2017-18` \(or"):
        spec.func(logs=archive_logs().iloc[:0], lines=archive_odds(), positions=archive_salaries(),
                  params=spec.params_model()(), ctx=ctx)
    few = archive_logs()  # a few games of it (a file cut short): the whole season must replace them
    with pytest.raises(SourceError, match=r"holds \d+ games of the season before 2018-19 \(needs 300\); fetch its "
                                          r"game logs with `projections ingest game-logs --fetch 2017-18 --replace` "
                                          r"\(or ingest a LeagueGameLog export: `projections ingest game-logs FILE "
                                          r"--replace`\)"):
        spec.func(logs=few, lines=archive_odds(), positions=archive_salaries(), params=spec.params_model()(),
                  ctx=ctx)


def _fit_2018_19(lines: pd.DataFrame, logs: pd.DataFrame | None = None, positions: pd.DataFrame | None = None,
                 **params: object) -> pd.DataFrame:
    from projections.archive import SHIPPED

    spec = PIPELINE["calibration"]
    ctx = StageContext(stage="calibration", seed=1, key="k", season="2019-20", scope="season")
    logs = pd.read_parquet(SHIPPED / "player_logs" / "2018-19.parquet") if logs is None else logs
    positions = pd.read_parquet(SHIPPED / "salaries" / "2018-19.parquet") if positions is None else positions
    return spec.func(logs=logs, lines=lines, positions=positions, params=spec.params_model()(**params), ctx=ctx)


def test_calibration_without_the_prior_season_s_dk_positions_fits_on_league_rate_priors():
    """The salary archive lacks the season before (it ships 2018-19..2020-21: a live 2023-24 fits on 2022-23 with
    none): `positions` is optional, every player's prior is the league's. Mapping no known position gave a float
    column, and filling it with "" raised pandas' Pandas4Warning (an error in its next version; here, where
    warnings are errors, the fit died). The minutes model's `vacated_pos` then weighs every teammate by the unknown
    overlap, 0.5: half of `vacated`, which made the median regressions' system singular (a bare LinAlgError); the
    fit gives it 0."""
    from projections.archive import SHIPPED

    lines = pd.read_parquet(SHIPPED / "odds" / "2018-19.parquet")
    salaries = pd.read_parquet(SHIPPED / "salaries" / "2018-19.parquet")
    table = _fit_2018_19(lines, positions=salaries.iloc[:0], sample_rows=1000, draws=40)
    TABLE.check(table, stage="calibration", role="output", origin="(test)", fix="fix calibrate.py")
    assert Calibration(table).scalar("fit_rows") > 20000
    for model, coefs in Calibration(table).coefs(("min_starter", "min_bench", "min_any")).items():
        assert coefs["vacated_pos"] == 0.0 and coefs["vacated"] > 0.1, (model, coefs)


def test_the_minutes_fit_weights_open_minutes_by_position():
    """With the 2018-19 salary files' DK positions, `vacated_pos` (teammates' open minutes weighted by position
    overlap) enters every median regression of minutes and carries nearly all of the open minutes' weight for
    starters (0.58 against 0.02 for the team's unweighted `vacated` on the full fit)."""
    coefs = Calibration(real_calibration()).coefs(("min_starter", "min_bench", "min_any"))
    for model, c in coefs.items():
        assert c["vacated_pos"] > 0.1, (model, c["vacated_pos"])
    assert coefs["min_starter"]["vacated_pos"] > 5 * abs(coefs["min_starter"]["vacated"])


@pytest.mark.parametrize("kept", [0, 600], ids=["no lines", "600 of 1312 games lined"])
def test_calibration_without_the_prior_season_s_lines_fits_on_the_box_scores_alone(kept):
    """Game logs of the season before but (almost) no closing lines: a live season rolling over has no feed for
    a past season's lines. The fit raised a bare LinAlgError (singular matrix), later a SourceError asking for a
    lines file; it now fits without lines: the spread's coefficients and the pace elasticity 0, the game and team
    factors from the final scores, and the table and the stage's meta say so."""
    from projections.archive import SHIPPED

    lines = pd.read_parquet(SHIPPED / "odds" / "2018-19.parquet")
    table = _fit_2018_19(lines.iloc[:kept], sample_rows=2000, draws=40)
    TABLE.check(table, stage="calibration", role="output", origin="(test)", fix="fix calibrate.py")
    cal = Calibration(table)
    s = cal.group("scalar")
    assert s["with_lines"] == 0.0 and s["pace_elasticity"] == 0.0
    assert 108 < s["league_implied"] < 114  # a team's mean score that season (111.2): the closing lines said 110.7
    assert 0.07 < s["sigma_game"] < 0.1 and 0.05 < s["sigma_team"] < 0.07  # closing lines: 0.083 and 0.059
    coefs = cal.coefs(("min_starter", "min_bench", "min_any"))
    assert all(c["abs_spread"] == 0.0 for c in coefs.values())
    assert all(c["role_minutes"] > 0.2 for c in (coefs["min_starter"], coefs["min_bench"]))
    for mode in ("confirmed", "none"):
        for tier, k in cal.group(f"dispersion:{mode}").items():
            assert 0.7 < k < 1.6, (mode, tier, k)
    meta = PIPELINE["calibration"].meta(table)
    assert "fitted without the prior season's betting lines" in meta["note"]
    assert "projections ingest lines FILE --season 2018-19` and the next run refits" in meta["note"]  # named


def test_calibration_on_logs_that_do_not_say_who_started_says_so_and_how_to_fetch_them():
    """A season before held as the stats.nba.com file (or fetched by an earlier version) has no starter flag: the
    fit guesses roles from minutes, which costs accuracy; the stage's meta says so and names the command, with the
    season to fetch (it said "--fetch SEASON --replace` (SEASON: the season before)")."""
    from projections.archive import SHIPPED

    logs = pd.read_parquet(SHIPPED / "player_logs" / "2018-19.parquet").assign(started=None)
    table = _fit_2018_19(pd.read_parquet(SHIPPED / "odds" / "2018-19.parquet"), logs, sample_rows=1000, draws=20)
    assert Calibration(table).scalar("starts_flagged") == 0.0
    note = PIPELINE["calibration"].meta(table)["note"]
    assert note.startswith("fitted on roles inferred from minutes") and "betting lines" not in note
    assert "`projections ingest game-logs --fetch 2018-19 --replace` fetches them" in note and "SEASON" not in note
    assert Calibration(real_calibration()).scalar("starts_flagged") == 1.0


def test_calibration_with_lines_uses_them_and_its_meta_has_no_note():
    table = real_calibration()
    assert Calibration(table).scalar("with_lines") == 1.0
    assert Calibration(table).coefs(("min_starter",))["min_starter"]["abs_spread"] != 0.0
    assert "note" not in PIPELINE["calibration"].meta(table)


def test_calibration_table_is_complete_and_plausible():
    table = real_calibration()
    TABLE.check(table, stage="calibration", role="output", origin="(test)", fix="fix calibrate.py")
    cal = Calibration(table)
    s = cal.group("scalar")
    assert 238 < s["team_minutes"] < 246 and 105 < s["league_implied"] < 116
    assert 0.04 < s["sigma_game"] < 0.12 and 0.03 < s["sigma_team"] < 0.1 and 0 <= s["pace_elasticity"] <= 2
    coefs = cal.coefs(("p_bench", "p_any", "min_starter", "min_bench", "min_any"))
    assert coefs["min_starter"]["role_minutes"] > 0.2 and coefs["p_bench"]["appear_share"] > 0
    for mode in ("confirmed", "none"):
        assert set(cal.residuals(mode)) == {f"b{i}" for i in range(6)}
        for tier, k in cal.group(f"dispersion:{mode}").items():
            assert 0.7 < k < 1.6, (mode, tier, k)
        for tier, c in cal.group(f"scale:{mode}").items():
            assert 0.7 < c < 1.3, (mode, tier, c)  # 1000 rows, 100 draws: fringe 0.82 or 0.78 by its draws
        for tier, c in cal.group(f"shift:{mode}").items():
            assert -5.0 < c < 5.0, (mode, tier, c)  # 1000 sampled rows: a noisy line


def test_calibration_is_deterministic_for_its_season_whatever_its_key():
    """Its draws are seeded from the season, not from the stage key (ctx.seed, which moves with any code edit): the
    same inputs under another key give the same table."""
    spec = PIPELINE["calibration"]
    ctx = StageContext(stage="calibration", seed=12, key="another", season="2019-20", scope="season")
    from projections.archive import SHIPPED

    logs = pd.read_parquet(SHIPPED / "player_logs" / "2018-19.parquet")
    odds = pd.read_parquet(SHIPPED / "odds" / "2018-19.parquet")
    positions = pd.read_parquet(SHIPPED / "salaries" / "2018-19.parquet")
    again = spec.func(logs=logs, lines=odds, positions=positions,
                      params=spec.params_model()(sample_rows=1000, draws=100), ctx=ctx)
    pd.testing.assert_frame_equal(again, real_calibration())


def test_calibration_candidates_are_recent_team_players_and_who_played():
    logs = archive_logs()
    cand = candidates(logs)
    first = cand[cand["game_date"] == cand["game_date"].min()]
    assert first["played"].all()  # nobody has a recent game before the first one
    assert len(cand) == len(logs[~logs["playoffs"]])  # everyone here plays every game
    assert Calibration(real_calibration()).scalar("fit_rows") > 20000


def test_a_player_traded_is_no_candidate_of_his_old_team_on_the_day_he_plays_for_the_new_one():
    """2018-19 (what 2019-20 is fitted on): CJ Miles played for MEM on 2019-02-09, his first game after the
    trade; TOR played that day too and he is not its candidate (he was, as a player who did not play, when the
    lookup of his last team skipped that day's games: 41 such rows in the fit)."""
    from projections.archive import SHIPPED

    logs = pd.read_parquet(SHIPPED / "player_logs" / "2018-19.parquet")
    cand = candidates(logs)
    day = cand[(cand["player_id"] == "101139") & (cand["game_date"].astype(str) == "2019-02-09")]
    assert day[["team", "played"]].values.tolist() == [["MEM", True]]
    assert set(cand[cand["game_date"].astype(str) == "2019-02-09"]["team"]) >= {"MEM", "TOR"}
    both = cand.groupby(["player_id", "game_date"])["team"].nunique()
    assert both.max() == 1  # nobody is a candidate of two teams on one date


def test_a_median_regression_gives_a_feature_that_never_varies_coefficient_zero():
    """A spread never known (0 on every row) made the reweighted system singular (LinAlgError); the feature now
    gets 0 and the others what the fit without it gives."""
    from stages.model.fit import lad_fit

    logs = archive_logs()
    rows = logs.assign(pts_f=logs["pts"].astype("float64"), reb_f=logs["reb"].astype("float64"), never=0.0)
    with_it = lad_fit(rows, ["pts_f", "never", "reb_f"], "minutes")
    without = lad_fit(rows, ["pts_f", "reb_f"], "minutes")
    assert with_it["never"] == 0.0
    assert with_it["pts_f"] > 0.05 and with_it["const"] > 5  # minutes rise with points: a real fit, not zeros
    for name, value in without.items():
        assert abs(with_it[name] - value) < 1e-9, name
