"""The three fixture slates built by real `doit` processes: 2019-10-30 (the real 11-game DraftKings file),
2019-11-05 (another real DK file) and 2020-08-06 (the bubble, with official injury reports).

They come from the session's `slates_home` (built once, shared with the evaluation tests); a second root
builds one date without lineups (`PROJECTIONS_PARAMS__LINEUPS__MODE=none`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import FIXTURE_DATE, SHARED, gold_object, ledger_events, run_cli, run_doit

DATES = (FIXTURE_DATE, "2019-11-05", "2020-08-06")
DK_FILES = {"2019-10-30": "2019-10-30__bradical1379__DKSalaries__cda50cde.csv",
            "2019-11-05": "2019-11-05__bradical1379__DKSalaries__65c7bab3.csv"}


@pytest.fixture
def fixture_home(slates_home: Path) -> Path:
    return slates_home


def _slate(home: Path, day: str) -> pd.DataFrame:
    return pd.read_parquet(home / "gold" / "projections" / f"game_date={day}" / "projections.parquet")


def _manifest(home: Path, stage: str, day: str) -> dict:
    event = [e for e in ledger_events(home) if e["event"] == "stage_success" and e["stage"] == stage
             and e["game_date"] == day][-1]
    obj = event["object"].split(":")[1]
    return json.loads((home / "store" / "objects" / obj[:2] / obj[2:] / "manifest.json").read_text())


def test_every_fixture_date_publishes_a_verified_slate(fixture_home: Path):
    for day in DATES:
        assert gold_object(fixture_home, day) is not None, day
    assert run_cli(fixture_home, "verify").returncode == 0


@pytest.mark.parametrize("day", sorted(DK_FILES))
def test_the_slate_lists_every_player_of_the_real_draftkings_file(fixture_home: Path, day: str):
    slate = _slate(fixture_home, day)
    path = SHARED / "salaries" / "dk" / DK_FILES[day]
    expected = {"2019-10-30": 367, "2019-11-05": 198}[day]
    assert len(slate) == expected and slate["player_id"].is_unique
    if path.exists():
        assert set(slate["dk_id"].astype("int64")) == set(pd.read_csv(path)["ID"])


@pytest.mark.parametrize("day", DATES)
def test_team_minutes_meet_the_budget_and_ownership_sums_to_800(fixture_home: Path, day: str):
    slate = _slate(fixture_home, day)
    expected = slate.groupby("team")["exp_minutes"].sum()
    assert expected.between(235, 250).all(), expected  # about 240 (overtime included) per team
    assert (slate["proj_minutes"] <= 48).all() and (slate["p_play"].between(0, 1)).all()
    assert np.isclose(slate["ownership"].sum(), 800.0, atol=1e-6)
    assert (slate.loc[slate["p_play"] == 0, "ownership"] == 0).all()
    q = slate[["dk_p10", "dk_p25", "dk_p50", "dk_p75", "dk_p90"]].to_numpy()
    assert (np.diff(q, axis=1) >= 0).all()


@pytest.mark.parametrize("day", DATES)
def test_stars_project_far_above_the_bench(fixture_home: Path, day: str):
    slate = _slate(fixture_home, day)
    playing = slate[slate["p_play"] > 0.5]
    top = playing.nlargest(5, "dk_mean")["dk_mean"]
    assert top.min() > 2 * playing["dk_mean"].median() and top.max() > 40
    starters = playing[playing["role"] == "starter"]["dk_mean"].median()
    bench = playing[playing["role"] == "bench"]["dk_mean"].median()
    assert starters > 1.5 * bench


def test_giannis_and_the_real_stars_of_opening_week(fixture_home: Path):
    slate = _slate(fixture_home, FIXTURE_DATE).set_index("player_name")
    for star in ("Giannis Antetokounmpo", "James Harden", "Joel Embiid"):
        assert slate.loc[star, "dk_mean"] > 40 > slate["dk_mean"].median()
        assert slate.loc[star, "proj_minutes"] > 28


def test_the_bubble_slate_uses_the_injury_report_as_of_lock(fixture_home: Path):
    slate = _slate(fixture_home, "2020-08-06")
    out = slate[slate["status"] == "Out"]
    assert len(out) >= 5 and (out["p_play"] == 0).all() and (out["dk_mean"] == 0).all()
    assert set(slate["status"]) <= {"", "Out", "Doubtful", "Questionable", "Probable", "Available"}
    injuries = _manifest(fixture_home, "injuries", "2020-08-06")
    assert injuries["rows"] > 0 and injuries["as_of"].startswith("2020-08-06")
    assert _manifest(fixture_home, "injuries", FIXTURE_DATE)["rows"] == 0  # no report in the archive


def test_lineups_were_confirmed_at_lock_and_the_manifest_says_so(fixture_home: Path):
    for day in DATES:
        meta = _manifest(fixture_home, "lineups", day)["meta"]
        assert meta["mode"] == "confirmed" and meta["teams_confirmed"] == meta["teams"] > 0, (day, meta)
        assert set(_slate(fixture_home, day)["mode"]) == {"confirmed"}


def test_one_calibration_object_serves_the_whole_season(fixture_home: Path):
    runs = [e for e in ledger_events(fixture_home) if e["event"] == "stage_success" and e["stage"] == "calibration"]
    assert len(runs) == 1
    manifest = _manifest(fixture_home, "calibration", runs[0]["game_date"])
    assert manifest["season"] == "2019-20" and "2018-19" in json.dumps(manifest["sources"])
    assert "2019-20" not in json.dumps(manifest["sources"])


def test_the_draftkings_csv_matches_the_slate(fixture_home: Path):
    link = fixture_home / "gold" / "projections" / f"game_date={FIXTURE_DATE}"
    csv = pd.read_csv(link / "dk_projections.csv")
    slate = _slate(fixture_home, FIXTURE_DATE)
    assert len(csv) == len(slate) and list(csv.columns)[:4] == ["Position", "Name + ID", "Name", "ID"]
    assert np.allclose(csv["AvgPointsPerGame"], (slate["p_play"] * slate["dk_mean"]).round(2))


def test_the_draftkings_csv_reads_back_as_the_draftkings_file_it_came_from(fixture_home: Path):
    """An optimiser reads Game Info as DraftKings writes it: the CSV held the nba.com game id there, which
    DraftKings' layout (and this project's own DK reader) refuses; dk_id was a float."""
    import datetime as dt

    from projections.archive_build import parse_game_info
    from projections.sources.dk_file import dk_salaries

    link = fixture_home / "gold" / "projections" / f"game_date={FIXTURE_DATE}"
    day, read = dk_salaries((link / "dk_projections.csv").read_bytes(), "dk_projections.csv", lambda d: lambda n, t: n)
    assert day == dt.date.fromisoformat(FIXTURE_DATE)
    original = pd.read_csv(SHARED / "salaries" / "dk" / "2019-10-30__bradical1379__DKSalaries__cda50cde.csv")
    ours = pd.read_csv(link / "dk_projections.csv").set_index("ID")
    theirs = original.set_index("ID").loc[ours.index]
    same_game = [parse_game_info(a) == parse_game_info(b)
                 for a, b in zip(ours["Game Info"], theirs["Game Info"], strict=True)]
    assert all(same_game) and (ours["Salary"] == theirs["Salary"]).all()  # team codes normalised (PHO -> PHX)
    assert _slate(fixture_home, FIXTURE_DATE)["dk_id"].dtype == "Int64" and len(read) == len(ours)


def test_a_slate_without_lineups_uses_expected_roles(tmp_path: Path, fixture_home: Path):
    home = tmp_path / "none"
    result = run_doit(home, "slate", "date=2019-11-05", PROJECTIONS_PARAMS__LINEUPS__MODE="none", timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    meta = _manifest(home, "lineups", "2019-11-05")["meta"]
    assert meta == {"mode": "none", "roles": "expected", "teams_confirmed": 0, "teams": 12, "sources": [],
                    "inactive": 0}
    slate, confirmed = _slate(home, "2019-11-05"), _slate(fixture_home, "2019-11-05")
    assert set(slate["mode"]) == {"none"} and set(slate["role"]) <= {"expected starter", "expected bench"}
    assert not np.allclose(slate["proj_minutes"], confirmed.set_index("player_id").loc[slate["player_id"],
                                                                                         "proj_minutes"])
    assert np.isclose(slate["ownership"].sum(), 800.0)
