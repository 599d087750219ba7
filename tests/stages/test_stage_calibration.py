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
    with pytest.raises(SourceError, match=r"season before 2018-19.*projections ingest"):
        spec.func(logs=archive_logs(), lines=archive_odds(), positions=archive_salaries(), params=spec.params_model()(),
                  ctx=ctx)


def test_calibration_without_the_prior_season_s_lines_names_the_ingest():
    """Game logs of the season before but no closing lines (`ingest game-logs` without `ingest lines`): the fit
    raised a bare LinAlgError (singular matrix) and blamed the stage's code. It now names the lines to add."""
    from projections.archive import SHIPPED

    spec = PIPELINE["calibration"]
    ctx = StageContext(stage="calibration", seed=1, key="k", season="2019-20", scope="season")
    lines = pd.read_parquet(SHIPPED / "odds" / "2018-19.parquet")
    with pytest.raises(SourceError, match=r"holds betting lines for 0 of the 1312 games of 2018-19 it fits on "
                                          r"\(needs 50%\); add them with `projections ingest lines FILE --season "
                                          r"2018-19`"):
        spec.func(logs=pd.read_parquet(SHIPPED / "player_logs" / "2018-19.parquet"), lines=lines.iloc[:0],
                  positions=pd.read_parquet(SHIPPED / "salaries" / "2018-19.parquet"), params=spec.params_model()(),
                  ctx=ctx)


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
            assert 0.8 < c < 1.2, (mode, tier, c)
        for tier, c in cal.group(f"shift:{mode}").items():
            assert -5.0 < c < 5.0, (mode, tier, c)  # 1000 sampled rows: a noisy line


def test_calibration_is_deterministic_for_its_seed():
    spec = PIPELINE["calibration"]
    ctx = StageContext(stage="calibration", seed=11, key="test", season="2019-20", scope="season")
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
