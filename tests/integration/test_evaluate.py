"""`python -m projections.evaluate` on slates built by real doit processes (two dates of the shared `slates_home`)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from projections.evaluate import EvaluationError, add_arguments, evaluate, run
from tests.conftest import REPO, project_env

BUILT = "2019-11-05..2019-11-06"
KEYS = ("dates", "players", "minutes_mae", "baseline_minutes_mae", "dk_mae", "baseline_dk_mae", "coverage_p10_p90",
        "coverage_p25_p75", "dk_rmse", "baseline_dk_rmse", "dk_bias", "minutes_rmse", "minutes_bias",
        "dk_mae_change", "dk_mae_change_se", "minutes_mae_change", "minutes_mae_change_se", "dk_mae_at_real_minutes",
        "baseline_dk_mae_at_real_minutes", "tiers")


@pytest.fixture
def built(slates_home: Path) -> Path:
    """The session's slates (`tests.conftest.SLATE_DATES`), which include both dates of BUILT."""
    return slates_home


def _evaluate_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "projections.evaluate", *args], env=project_env(home),
                          capture_output=True, text=True, timeout=300, cwd=REPO)


def test_evaluate_prints_one_json_object_with_sane_numbers(built: Path):
    result = _evaluate_cli(built, BUILT, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert result.stdout.count("\n") <= 1 and isinstance(report, dict)
    for key in KEYS:
        assert key in report, key
    assert report["dates"] == ["2019-11-05", "2019-11-06"] and report["players"] > 250
    assert 3.0 < report["minutes_mae"] < report["baseline_minutes_mae"] < 7.0
    assert 5.0 < report["dk_mae"] < 10.0 and 5.0 < report["baseline_dk_mae"] < 10.0
    assert 0.65 < report["coverage_p10_p90"] < 0.95 and 0.35 < report["coverage_p25_p75"] < 0.65
    assert abs(report["dk_bias"]) < 2.5 and report["dk_rmse"] > report["dk_mae"]
    assert 3.0 < report["dk_mae_at_real_minutes"] < report["dk_mae"]  # most of the DK error is minutes
    assert report["minutes_mae_change"] < 0 and report["minutes_mae_change_se"] > 0
    assert set(report["tiers"]) == {"rotation", "fringe"}
    assert sum(t["players"] for t in report["tiers"].values()) == report["players"]
    assert report["lineup_modes"] == {"confirmed": report["players"]}
    assert report["injury_report_dates"] == 0  # the archive's 2019-20 injury reports start in the bubble


def test_evaluate_names_the_dates_without_a_slate_and_how_to_build_them(built: Path):
    result = _evaluate_cli(built, "2019-11-05..2019-11-08", "--json")
    assert result.returncode == 1 and json.loads(result.stdout)["error"] in result.stderr  # JSON either way
    assert "2019-11-07, 2019-11-08" in result.stderr and "doit" in result.stderr
    assert f"PROJECTIONS_HOME={built}" in result.stderr and "slate date=2019-11-07,2019-11-08" in result.stderr
    assert "--skip-unbuilt" in result.stderr


def test_evaluate_can_skip_the_dates_without_a_slate_and_lists_them(built: Path):
    """A month where one date failed to build can still be evaluated, saying which dates it left out."""
    result = _evaluate_cli(built, "2019-11-05..2019-11-08", "--skip-unbuilt", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dates"] == ["2019-11-05", "2019-11-06"]
    assert report["skipped_no_gold"] == ["2019-11-07", "2019-11-08"]
    text = _evaluate_cli(built, "2019-11-05..2019-11-08", "--skip-unbuilt").stdout
    assert "skipped 2 date(s) with games but no gold slate: 2019-11-07, 2019-11-08" in text
    none = _evaluate_cli(built, "2019-11-07..2019-11-08", "--skip-unbuilt")
    assert none.returncode == 1 and "none of the 2 date(s) has a gold slate under " in none.stderr
    assert "(2 with games skipped as unbuilt)" in none.stderr and "slate date=2019-11-07,2019-11-08" in none.stderr


@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_a_damaged_gold_slate_is_named_with_the_rebuild_command(built: Path, tmp_path: Path, damage: str):
    """A truncated gold parquet gave an ArrowInvalid traceback; a flipped byte would have read as other numbers.
    status names the damage too, not 'no object for its key'."""
    import os
    import shutil
    import stat

    from tests.conftest import run_cli

    home = tmp_path / "home"
    shutil.copytree(built, home, symlinks=True)
    target = (home / "gold" / "projections" / "game_date=2019-11-05").resolve() / "projections.parquet"
    os.chmod(target.parent, 0o755)
    os.chmod(target, os.stat(target).st_mode | stat.S_IWUSR)
    data = bytearray(target.read_bytes())
    if damage == "truncated":
        data = data[:1000]
    else:
        data[len(data) // 2] ^= 0x10
    target.write_bytes(bytes(data))
    result = _evaluate_cli(home, BUILT, "--json")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert json.loads(result.stdout)["ok"] is False  # no figure read from the damaged file
    assert result.stderr.startswith("error: the gold slate of 2019-11-05 is damaged or not its own (") and \
        f"rebuild it with `PROJECTIONS_HOME={home} doit slate date=2019-11-05`" in result.stderr, result.stderr
    status = run_cli(home, "status", "2019-11-05")
    assert "R gold " in status.stdout and "stale: its object is damaged (file 'projections.parquet' hashes to " \
        in status.stdout, status.stdout


def test_evaluate_skips_dates_without_games(built: Path):
    report = evaluate(built, [dt.date(2019, 11, 5), dt.date(2019, 11, 6), dt.date(2019, 11, 28)])
    assert report["skipped_no_games"] == ["2019-11-28"] and len(report["dates"]) == 2
    text = _evaluate_cli(built, "2019-11-05,2019-11-06,2019-11-28").stdout  # the text lists what the JSON does
    assert "skipped 1 date(s) without games: 2019-11-28" in text, text
    assert report["played_without_baseline"] > 0, report
    assert f"{report['played_without_baseline']} played without a baseline (no earlier game" in text, text


def test_evaluate_counts_every_date_it_cannot_score_and_offers_seasons_it_can(tmp_path: Path):
    """2018-19 has no DraftKings salaries (and no season before it to calibrate on): the error counted 0 of 2
    dates ("no games: 0, no box scores: 0") and offered 2018-19 itself as the fix."""
    with pytest.raises(EvaluationError) as caught:
        evaluate(tmp_path, [dt.date(2018, 11, 1), dt.date(2018, 11, 2)])
    message = str(caught.value)
    assert "(no games: 0, no DraftKings salaries: 2, no box scores: 0)" in message, message
    assert "2019-20 (2019-10-22..2020-10-11)" in message and "2018-19" not in message, message


def test_evaluate_library_call_raises_for_missing_slates(tmp_path: Path):
    with pytest.raises(EvaluationError, match=r"1 date\(s\) have NBA games but no gold slate.*2019-11-05"):
        evaluate(tmp_path, [dt.date(2019, 11, 5)])


def test_add_arguments_and_run_wire_as_a_subcommand(built: Path, capsys: pytest.CaptureFixture[str]):
    parser = argparse.ArgumentParser(prog="projections evaluate")
    add_arguments(parser)
    assert run(parser.parse_args([BUILT, "--home", str(built)])) == 0
    text = capsys.readouterr().out
    assert "minutes MAE" in text and "DK MAE" in text and "tier rotation" in text
    assert run(parser.parse_args(["2019-13-01", "--home", str(built)])) == 2
    assert "invalid date" in capsys.readouterr().err


@pytest.mark.parametrize("wrong", ["file", "missing"])
def test_a_home_that_is_no_directory_is_named(built: Path, tmp_path: Path, wrong: str):
    """`--home` naming a file ended in a NotADirectoryError traceback; a mistyped one said "build them first" into
    the typo. Both are one line naming what is wrong with --home (exit 2)."""
    home = tmp_path / "afile"
    if wrong == "file":
        home.write_text("not a data root")
    result = _evaluate_cli(built, BUILT, "--home", str(home))
    says = "is a file, not a directory" if wrong == "file" else "does not exist"
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.strip() == (f"error: --home {home} {says}; give the data root the slates were built in "
                                     "(the PROJECTIONS_HOME of `doit slate`), or leave --home out to use the "
                                     "settings' one")


def test_one_date_has_no_standard_error_and_says_so(built: Path):
    """A date-clustered SE needs two dates: over one, the table printed `se nan`."""
    result = _evaluate_cli(built, BUILT.split("..")[0])
    assert result.returncode == 0 and "se n/a: one date" in result.stdout and "nan" not in result.stdout, result.stdout


def test_a_live_season_is_evaluated_against_its_captured_box_scores(built: Path, tmp_path: Path):
    """A live season the archive lacks: its box scores are in the game-log captures the runs made (each holds the
    season to date). Here the slates of BUILT against an archive without 2019-20's box scores, and the root's
    capture of the real stats.nba.com game log the morning after (taken by `projections fetch` from a 127.0.0.1
    server): the figures are those the archive's box scores give; without the capture, there is nothing to score."""
    import shutil

    from projections.archive import SHIPPED
    from tests.conftest import run_cli
    from tests.net.faultserver import FaultServer
    from tests.sources import payloads

    home = tmp_path / "home"
    shutil.copytree(built, home, symlinks=True)
    shipped = tmp_path / "shipped"  # the shipped archive but 2019-20's box scores
    for table in (p for p in SHIPPED.iterdir() if p.is_dir()):
        (shipped / table.name).mkdir(parents=True)
        for part in table.glob("*.parquet"):
            if (table.name, part.stem) != ("player_logs", "2019-20"):
                (shipped / table.name / part.name).symlink_to(part)
    days = [dt.date(2019, 11, 5), dt.date(2019, 11, 6)]
    with pytest.raises(EvaluationError, match=r"no box scores: 2\)"):
        evaluate(home, days, shipped=shipped)
    with FaultServer() as server:
        server.replay("/stats/leaguegamelog", payloads.league_game_log(dt.date(2019, 11, 7)))
        fetched = run_cli(home, "fetch", "player_logs", "2019-11-07", PROJECTIONS_LIVE__NOW="2019-11-07T15:00:00Z",
                          PROJECTIONS_LIVE__STATS_BASE=server.url("/stats"), PROJECTIONS_LIVE__MIN_INTERVAL_S="0",
                          PROJECTIONS_LIVE__CDN_BASE=server.url("/cdn"), PROJECTIONS_LIVE__MAX_ATTEMPTS="1")
    assert fetched.returncode == 0, fetched.stdout + fetched.stderr
    live = evaluate(home, days, shipped=shipped)
    archive = evaluate(home, days)
    assert live["dates"] == archive["dates"] == ["2019-11-05", "2019-11-06"]
    assert live["players"] == archive["players"] > 250, (live, archive)
    for key in ("dk_mae", "baseline_dk_mae", "minutes_mae", "coverage_p10_p90", "dk_mae_change_se"):
        assert live[key] == pytest.approx(archive[key], abs=1e-9), key  # the archive's 2019-20 lines are nba.com's


def test_knowing_who_sits_does_not_inflate_the_minutes_of_those_who_play(built: Path, tmp_path: Path):
    """Every slate player of 2019-11-05 and 06 without a box-score line given as inactive in his game's live box
    score (what a run at lock reads; here the perfect list, from the real box scores): those who play are projected
    without bias. The minutes models were fitted without inactive lists; when they read the ruled-out P(plays) they
    counted each absence twice (minutes bias +1.5 on these dates, +1.6 over November)."""
    import shutil

    import pandas as pd

    from projections.archive import SHIPPED
    from projections.sources import snapshots, tables
    from tests.conftest import run_doit
    from tests.sources.test_ingest import built as built_table

    home = tmp_path / "home"
    shutil.copytree(built, home, symlinks=True)
    logs = pd.read_parquet(SHIPPED / "player_logs" / "2019-20.parquet", columns=["game_date", "player_id", "minutes"])
    sat = 0
    for day in (dt.date(2019, 11, 5), dt.date(2019, 11, 6)):
        slate = built_table(home, "salaries", day).drop_duplicates("player_id")
        played = set(logs.loc[(logs["game_date"] == day) & (logs["minutes"] > 0), "player_id"])
        out = slate[~slate["player_id"].isin(played)]
        sat += len(out)
        frame = pd.DataFrame({"season": "2019-20", "game_date": day, "game_id": out["game_id"].astype(str),
                              "team": out["team"], "player_id": out["player_id"].astype(str),
                              "player_name": out["player_name"], "starter": False, "status": "INACTIVE",
                              "not_playing_reason": None, "not_playing_description": None, "position": None})
        snapshots.record(home, "lineups", day, files={snapshots.DATA: tables.to_parquet(frame, "lineups")},
                         captured_at=dt.datetime(day.year, day.month, day.day, 16, tzinfo=dt.UTC),
                         url="test:inactive", rows=len(frame))
    assert sat > 100
    result = run_doit(home, "slate", "date=2019-11-05..2019-11-06")
    assert result.returncode == 0, result.stdout + result.stderr
    rosters = built_table(home, "rosters", dt.date(2019, 11, 5))
    minutes = built_table(home, "minutes", dt.date(2019, 11, 5)).set_index("player_id")
    listed = rosters.loc[rosters["inactive"], "player_id"]
    assert len(listed) > 50 and (minutes.loc[listed, "p_play"] == 0).all()
    report = evaluate(home, [dt.date(2019, 11, 5), dt.date(2019, 11, 6)])
    assert abs(report["minutes_bias"]) < 0.75 and abs(report["dk_bias"]) < 1.0, report


def test_a_date_without_box_scores_is_offered_only_seasons_that_have_them(tmp_path: Path):
    """2020-12-23 built (the shipped 2020-21 week has schedule, salaries and lines) but no box scores: the error
    offered 2020-21 itself as a season to pick, which has none either."""
    gold = tmp_path / "gold" / "projections" / "game_date=2020-12-23"
    gold.mkdir(parents=True)
    (gold / "projections.parquet").touch()  # as if built: never read, the box scores are missing first
    with pytest.raises(EvaluationError) as caught:
        evaluate(tmp_path, [dt.date(2020, 12, 23)])
    message = str(caught.value)
    assert "no box scores: 1" in message and "(2019-20 (2019-10-22..2020-10-11))" in message, message
    assert "2020-21" not in message and "projections ingest game-logs" in message, message


def test_a_box_score_line_of_zero_minutes_is_no_game_played(built: Path, tmp_path: Path):
    """The rows are the slate's players who played (minutes > 0). 2019-20's box scores hold 213 lines of 0
    minutes (none on the dates built here, so nothing else pins it): such a line scored the projection against a
    game he never played. Here one slate player's line of 2019-11-05 is made a 0-minute line in a copy of the
    shipped archive: he leaves the scored rows and is not counted as having played off the slate."""
    import pandas as pd

    from projections.archive import SHIPPED

    day = dt.date(2019, 11, 5)
    logs = pd.read_parquet(SHIPPED / "player_logs" / "2019-20.parquet")
    slate = pd.read_parquet(built / "gold" / "projections" / f"game_date={day}" / "projections.parquet")
    earlier = set(logs.loc[logs["game_date"] < day, "player_id"])
    played = logs[(logs["game_date"] == day) & (logs["minutes"] > 0) & logs["player_id"].isin(slate["player_id"])
                  & logs["player_id"].isin(earlier)]
    sat = played.index[0]
    logs.loc[sat, "minutes"] = 0.0
    shipped = tmp_path / "shipped"
    for table in (p for p in SHIPPED.iterdir() if p.is_dir()):
        (shipped / table.name).mkdir(parents=True)
        for part in table.glob("*.parquet"):
            if (table.name, part.stem) != ("player_logs", "2019-20"):
                (shipped / table.name / part.name).symlink_to(part)
    logs.to_parquet(shipped / "player_logs" / "2019-20.parquet")
    before = evaluate(built, [day])
    after = evaluate(built, [day], shipped=shipped)
    assert after["players"] == before["players"] - 1, (before["players"], after["players"])
    assert after["played_not_on_slate"] == before["played_not_on_slate"]
    assert after["played_without_baseline"] == before["played_without_baseline"]
