"""`projections status` and `explain` in archive mode on dates the archive's calendar decides: a date without
games that one run named alone (and so failed) is skipped, with the failure as a note; a date its schedule
cannot vouch for is outside it, with the season's span and the fix `doit slate` names when it refuses it. Live
mode keeps the plain store view."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ledger_events, run_cli, run_doit

OFF_DAY = "2019-12-24"
NO_SALARIES = "2020-01-21"
BEYOND_SPAN = "2021-01-01"  # the archive holds 2020-21 only from 2020-12-22 to 2020-12-31
TODAY = "2026-11-25"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`doit slate` named alone on the off day and on the date without salaries: both fail by design."""
    home = tmp_path_factory.mktemp("archive-dates") / "home"
    for day in (OFF_DAY, NO_SALARIES):
        result = run_doit(home, "slate", f"date={day}")
        assert result.returncode not in (0, 3), result.stdout + result.stderr
    yield home


def _status(home: Path, *args: str, **env: str) -> tuple[int, dict[str, dict]]:
    result = run_cli(home, "status", *args, "--json", **env)
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, {d["game_date"]: d for d in json.loads(result.stdout)["dates"]}


def _explain(home: Path, day: str, stage: str, **env: str) -> dict:
    result = run_cli(home, "explain", day, stage, "--json", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_an_off_day_a_run_named_alone_is_skipped_with_the_failure_as_a_note(home: Path):
    failed_run = next(e["run"] for e in ledger_events(home) if e["event"] == "stage_failure"
                      and e["game_date"] == OFF_DAY)
    code, found = _status(home, OFF_DAY)
    assert code == 0
    off = found[OFF_DAY]
    assert off["state"] == "skipped" and off["skipped"].startswith(f"no NBA games on {OFF_DAY} in the archive")
    assert off["note"].startswith(f"run {failed_run} failed on it ") and "schedule: no NBA games" in off["note"]
    text = run_cli(home, "status", OFF_DAY)
    assert text.returncode == 0
    assert text.stdout.splitlines()[0].startswith(f"{OFF_DAY}  SKIPPED     no NBA games on {OFF_DAY}")
    assert f"  note: run {failed_run} failed on it" in text.stdout and "FAILED" not in text.stdout

    schedule = _explain(home, OFF_DAY, "schedule")
    assert schedule["state"] == "skipped" and schedule["reason"] == off["skipped"]
    assert schedule["failure"]["run"] == failed_run
    gold = _explain(home, OFF_DAY, "gold")
    assert gold["state"] == "skipped" and gold["reason"] == off["skipped"]
    why = run_cli(home, "explain", OFF_DAY, "schedule").stdout
    assert why.startswith(f"schedule {OFF_DAY}: SKIPPED - no NBA games on {OFF_DAY}")
    assert "note: its last run failed" in why and f"(run {failed_run})" in why and "why it is stale" not in why


def test_a_date_with_games_whose_named_run_failed_still_shows_the_failure(home: Path):
    code, found = _status(home, NO_SALARIES)
    assert code == 1 and found[NO_SALARIES]["state"] == "failed" and found[NO_SALARIES]["note"] is None
    data = _explain(home, NO_SALARIES, "salaries")
    assert data["state"] == "failed" and f"no DraftKings salaries for {NO_SALARIES}" in data["failure"]["error"]
    text = run_cli(home, "explain", NO_SALARIES, "salaries").stdout
    assert text.startswith(f"salaries {NO_SALARIES}: FAILED") and "\nlast run failed " in text


def test_dates_outside_the_archive_name_the_span_and_the_fix_and_are_no_work_to_do(home: Path):
    code, found = _status(home, f"{BEYOND_SPAN},2022-12-15")
    assert code == 0
    beyond = found[BEYOND_SPAN]
    assert beyond["state"] == "outside archive" and beyond["skipped"] is None
    assert f"{BEYOND_SPAN} lies outside what the archive's schedule covers" in beyond["outside"]
    assert "it holds season 2020-21 only from 2020-12-22 to 2020-12-31" in beyond["outside"]
    for fix in ("`doit slate` refuses it", "`projections ingest game-logs FILE`", 'live mode (`source = "live"`)'):
        assert fix in beyond["outside"], beyond["outside"]
    assert "it holds no game of season 2022-23" in found["2022-12-15"]["outside"]
    text = run_cli(home, "status", BEYOND_SPAN).stdout
    assert text.startswith(f"{BEYOND_SPAN}  OUTSIDE ARCHIVE  {beyond['outside']}") and "stale" not in text

    for stage in ("schedule", "gold"):
        data = _explain(home, BEYOND_SPAN, stage)
        assert data["state"] == "outside archive" and data["reason"] == beyond["outside"]
    why = run_cli(home, "explain", BEYOND_SPAN, "gold").stdout
    assert why.startswith(f"gold {BEYOND_SPAN}: OUTSIDE ARCHIVE - {beyond['outside']}")
    assert "never built" not in why and "stale" not in why.lower()


def test_status_of_today_outside_the_archive(home: Path):
    code, found = _status(home, PROJECTIONS_LIVE__NOW=f"{TODAY}T15:00:00Z")
    assert code == 0 and list(found) == [TODAY]
    assert found[TODAY]["state"] == "outside archive"
    assert "it holds no game of season 2026-27; it holds 2018-19 (2018-10-16..2019-06-13)" in found[TODAY]["outside"]


def test_live_mode_keeps_the_store_view(home: Path):
    code, found = _status(home, f"{BEYOND_SPAN},{OFF_DAY}", PROJECTIONS_SOURCE="live")
    assert code == 1
    assert found[BEYOND_SPAN]["state"] == "stale" and found[BEYOND_SPAN]["outside"] is None
    assert found[OFF_DAY]["state"] == "failed" and found[OFF_DAY]["skipped"] is None
    assert _explain(home, BEYOND_SPAN, "gold", PROJECTIONS_SOURCE="live")["state"] == "stale"


ORPHAN = "2018-11-18"  # season 2018-19: its calibration fits on 2017-18, which the archive lacks
ORPHAN_NO_SALARIES = "2019-01-10"  # 2018-19, games but no DraftKings salaries: a backfill refuses it too
ORPHAN_OFF_DAY = "2018-12-24"  # 2018-19 without games: still an off day


def test_a_season_that_cannot_be_calibrated_is_cannot_project_as_doit_refuses_it(home: Path):
    for args in (("slate", f"date={ORPHAN}"), ("slate", f"date={ORPHAN_NO_SALARIES}"),
                 ("list", "--status", f"date={ORPHAN}")):
        refused = run_doit(home, *args)
        assert refused.returncode == 3 and "season 2018-19 cannot be projected" in refused.stderr, refused.stderr
    code, found = _status(home, f"{ORPHAN},{ORPHAN_NO_SALARIES},{ORPHAN_OFF_DAY}")
    assert code == 0
    for day in (ORPHAN, ORPHAN_NO_SALARIES):
        data = found[day]
        assert data["state"] == "cannot project" and data["skipped"] is None and data["outside"] is None, data
        for part in ("season 2018-19 cannot be projected", "the season before (2017-18)",
                     f"`doit slate` refuses {day}", "`projections ingest game-logs FILE`", "2019-20 (2019-10-22..",
                     "`projections ingest game-logs --fetch 2017-18`"):
            assert part in data["cannot_project"], data["cannot_project"]
    assert found[ORPHAN_OFF_DAY]["state"] == "skipped" and found[ORPHAN_OFF_DAY]["cannot_project"] is None
    text = run_cli(home, "status", ORPHAN)
    assert text.returncode == 0 and "never ran" not in text.stdout
    assert text.stdout.startswith(f"{ORPHAN}  CANNOT PROJECT  {found[ORPHAN]['cannot_project']}")

    gold = _explain(home, ORPHAN, "gold")
    assert gold["state"] == "cannot project" and gold["reason"] == found[ORPHAN]["cannot_project"]
    assert _explain(home, ORPHAN, "schedule")["state"] == "stale"  # `doit schedule date=...` builds it

    report = run_cli(home, "report", f"{ORPHAN},{ORPHAN_NO_SALARIES}")
    assert "Traceback" not in report.stderr, report.stderr
    page = (home / "report" / "index.html").read_text()
    assert page.count('<td class="state-cannot-project" title="season 2018-19 cannot be projected') == 2
