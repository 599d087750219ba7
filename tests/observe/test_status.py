"""`projections status` on a data root built by real runs: up to date, stale after a code change, failed."""

from __future__ import annotations

import json
from pathlib import Path

from projections.store import LocalStore
from tests.conftest import run_doit
from tests.observe.conftest import DATES, FAILED_DATE, RERUN_DATE, Observed, cli, copy_root


def _status(observed: Observed, dates: str) -> dict[str, dict]:
    result = cli(observed.home, observed.code, "status", dates, "--json")
    assert result.returncode in (0, 1), result.stderr
    data = json.loads(result.stdout)
    return {d["game_date"]: d for d in data["dates"]}


def test_status_json_names_state_object_gold_timing_and_failure(observed: Observed):
    found = _status(observed, f"{FAILED_DATE},{DATES[0]}..{DATES[-1]}")
    rerun = found[RERUN_DATE]
    assert rerun["state"] == "up to date"
    assert rerun["gold"] == {"projections": observed.rerun_gold}
    assert rerun["published_at"]["projections"]
    for stage in rerun["stages"]:
        assert stage["state"] == "up to date" and stage["object"] and stage["built_at"]
        assert isinstance(stage["seconds"], float) and stage["seconds"] > 0
        assert stage["last_outcome"] == "built"
    gold = rerun["stages"][-1]
    assert gold["stage"] == "gold" and gold["object"] == observed.rerun_gold

    stale = found[DATES[1]]
    assert stale["state"] == "stale" and stale["gold"]["projections"] == observed.first_gold[DATES[1]]
    by_stage = {s["stage"]: s for s in stale["stages"]}
    assert by_stage["gold"]["state"] == "stale" and by_stage["gold"]["object"] is None
    assert "no object for its key" in by_stage["gold"]["reason"]
    assert by_stage["salaries"]["state"] == "up to date"

    off = found[FAILED_DATE]  # an off day named alone fails by design: the archive's calendar has the last word
    assert off["state"] == "skipped" and off["gold"] == {"projections": None}
    assert off["skipped"] == f"no NBA games on {FAILED_DATE} in the archive's schedule: nothing to build"
    assert off["note"].startswith(f"run {observed.failed_run} failed on it ")
    assert f": schedule: no NBA games on {FAILED_DATE} in the schedule source; pick a date with games" in off["note"]
    by_stage = {s["stage"]: s for s in off["stages"]}
    assert by_stage["schedule"]["state"] == "failed"
    assert by_stage["schedule"]["error"].startswith("schedule: no NBA games on 2019-11-28")
    assert by_stage["schedule"]["last_run"] and by_stage["schedule"]["last_outcome"] == "failed"
    assert by_stage["gold"]["state"] == "stale"
    assert by_stage["gold"]["reason"] == "waits for schedule, which failed"


def test_status_text_and_exit_code(observed: Observed):
    ok = cli(observed.home, observed.code, "status", RERUN_DATE)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    lines = ok.stdout.splitlines()
    assert lines[0].startswith(f"{RERUN_DATE}  UP TO DATE  gold: projections {observed.rerun_gold[9:19]}")
    assert any(line.strip().startswith("U gold") and "-> gold" in line and "built" in line for line in lines)

    bad = cli(observed.home, observed.code, "status", f"{FAILED_DATE},{DATES[1]}")
    assert bad.returncode == 1  # the stale date; the skipped one is no problem
    assert f"{FAILED_DATE}  SKIPPED     no NBA games on {FAILED_DATE}" in bad.stdout
    assert f"  note: run {observed.failed_run} failed on it " in bad.stdout and "F schedule" not in bad.stdout
    assert "R gold" in bad.stdout and "stale: no object for its key" in bad.stdout
    off = cli(observed.home, observed.code, "status", FAILED_DATE)
    assert off.returncode == 0, off.stdout + off.stderr
    assert bad.stdout.splitlines()[-1] == "2 dates: 1 stale, 1 skipped", bad.stdout


def test_over_several_dates_an_up_to_date_date_is_one_line(observed: Observed):
    """A season's status printed 14 lines a date, 1,871 in all, and no total."""
    many = cli(observed.home, observed.code, "status", f"{RERUN_DATE},{DATES[1]}")
    lines = many.stdout.splitlines()
    assert lines[0].startswith(f"{RERUN_DATE}  UP TO DATE  gold: ") and not lines[1].startswith("  "), lines
    assert lines[-1].startswith("2 dates: 1 up to date, ") and "1 stale" in lines[-1], lines
    spaced = cli(observed.home, observed.code, "status", RERUN_DATE, DATES[1])  # it printed the top-level usage
    assert spaced.returncode == many.returncode and spaced.stdout == many.stdout, spaced.stderr
    one = cli(observed.home, observed.code, "status", RERUN_DATE).stdout.splitlines()
    assert len(one) == 1 + len(observed.stages) and not one[-1].startswith("1 dates")  # one date: every stage


def test_status_of_a_date_never_run(observed: Observed):
    result = cli(observed.home, observed.code, "status", "2019-11-20")
    assert result.returncode == 1
    assert "never ran" in result.stdout and "no gold" in result.stdout


def test_a_stage_whose_run_was_killed_says_so_as_history_does(observed: Observed, tmp_path: Path):
    """status said "never ran" of a stage a run had started and was killed in (history: "started, never
    finished"); a killed rebuild of a built stage said nothing of it."""
    from projections.ledger import Ledger

    home, code = copy_root(observed, tmp_path)
    before = {s["stage"]: s for s in _status(Observed(**{**observed.__dict__, "home": home, "code": code}),
                                             DATES[1])[DATES[1]]["stages"]}
    assert before["gold"]["object"] is None and before["sim"]["built_at"], before  # gold stale, sim built
    killed = Ledger(home, run="killed-run")
    for stage in ("gold", "sim"):
        killed.append("stage_start", stage=stage, game_date=DATES[1], key=before[stage]["key"])
    text = cli(home, code, "status", DATES[1]).stdout
    gold = next(line for line in text.splitlines() if " gold " in line)
    sim = next(line for line in text.splitlines() if " sim " in line)
    assert "never ran" not in gold and "started " in gold and "never finished (killed, or still running)" in gold
    assert sim.count("built ") == 1 and "; started " in sim and "never finished" in sim, sim
    found = {s["stage"]: s for s in json.loads(cli(home, code, "status", DATES[1], "--json").stdout)["dates"][0]
             ["stages"]}
    assert found["gold"]["unfinished"] and found["sim"]["unfinished"], found
    Ledger(home, run="later").append("stage_cached", stage="sim", game_date=DATES[1], key=before["sim"]["key"])
    again = {s["stage"]: s for s in json.loads(cli(home, code, "status", DATES[1], "--json").stdout)["dates"][0]
             ["stages"]}
    assert again["sim"]["unfinished"] is None and again["gold"]["unfinished"], again  # a later run ended it


def test_a_failed_stage_whose_retry_was_interrupted_is_no_longer_called_failed(observed: Observed, tmp_path: Path):
    """status read only successes and failures: a stage that failed, then was retried and interrupted (Ctrl-C,
    systemctl stop), still said "failed" with the old error, while history said the last run was interrupted."""
    from projections.ledger import Ledger

    home, code = copy_root(observed, tmp_path)
    key = {s["stage"]: s for s in _status(Observed(**{**observed.__dict__, "home": home, "code": code}),
                                          DATES[1])[DATES[1]]["stages"]}["gold"]["key"]
    Ledger(home, run="failed-run").append("stage_failure", stage="gold", game_date=DATES[1], key=key,
                                          error="gold: broke on purpose")

    def gold() -> dict:
        return {s["stage"]: s for s in json.loads(cli(home, code, "status", DATES[1], "--json").stdout)["dates"][0]
                ["stages"]}["gold"]

    assert (gold()["state"], gold()["last_outcome"], gold()["error"]) == ("failed", "failed", "gold: broke on purpose")
    retry = Ledger(home, run="retry-run")
    retry.append("stage_start", stage="gold", game_date=DATES[1], key=key)
    retry.append("stage_interrupted", stage="gold", game_date=DATES[1], key=key, error="KeyboardInterrupt")
    now = gold()
    assert (now["state"], now["last_outcome"], now["error"]) == ("stale", "interrupted", None), now
    line = next(row for row in cli(home, code, "status", DATES[1]).stdout.splitlines() if " gold " in row)
    assert "last ran " in line and line.endswith("(its last run interrupted)") and "broke on purpose" not in line, line


CALIBRATION_BREAKS = '    raise RuntimeError("calibration broke on purpose")\n'


def _edit_calibration(code: Path, first_statement: str) -> None:
    """The calibration stage's function with `first_statement` first (in place of an earlier edit's)."""
    module = code / "stages" / "calibration.py"
    text = module.read_text().replace(CALIBRATION_BREAKS, "")
    anchor = "                ctx: StageContext) -> pd.DataFrame:\n"
    assert text.count(anchor) == 1, "the calibration stage's signature moved: update this test"
    module.write_text(text.replace(anchor, anchor + first_statement))


def test_a_season_stage_run_under_one_date_is_the_run_of_every_date_of_its_season(observed: Observed, tmp_path: Path):
    """The calibration (one object per season) failed under one date and every other date of the season said it
    "never ran" and its stages "wait for calibration", not that it failed; after a rebuild under one date the
    others had no last run."""
    home, code = copy_root(observed, tmp_path)
    _edit_calibration(code, CALIBRATION_BREAKS)
    failed = run_doit(home, "slate", f"date={DATES[0]}", code=code)
    assert failed.returncode != 0 and "calibration broke on purpose" in failed.stdout + failed.stderr
    other = DATES[1]  # built by the range run, whose calibration ran under DATES[0]
    result = cli(home, code, "status", other, "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    [day] = json.loads(result.stdout)["dates"]
    by_stage = {s["stage"]: s for s in day["stages"]}
    assert day["state"] == "failed"
    calibration = by_stage["calibration"]
    assert calibration["state"] == "failed" and calibration["last_outcome"] == "failed", calibration
    assert calibration["error"] == "RuntimeError: calibration broke on purpose"
    assert by_stage["minutes"]["reason"] == "waits for calibration, which failed"
    text = cli(home, code, "status", other).stdout
    assert "F calibration" in text and "FAILED: RuntimeError: calibration broke on purpose" in text, text
    explained = json.loads(cli(home, code, "explain", other, "minutes", "--json").stdout)
    assert explained["reason"] == ("waits for calibration, whose last run failed: "
                                   "RuntimeError: calibration broke on purpose")
    assert json.loads(cli(home, code, "explain", other, "calibration", "--json").stdout)["state"] == "failed"

    _edit_calibration(code, '    _mended = "a logic edit that fits the same calibration"\n')
    mended = run_doit(home, "calibration", f"date={DATES[0]}", code=code)
    assert mended.returncode == 0, mended.stdout + mended.stderr
    [day] = json.loads(cli(home, code, "status", other, "--json").stdout)["dates"]
    calibration = {s["stage"]: s for s in day["stages"]}["calibration"]
    assert calibration["state"] == "up to date" and calibration["last_outcome"] == "built", calibration
    assert calibration["last_run"] and calibration["last_run"] >= calibration["built_at"]


def test_a_stage_never_built_for_the_date_says_so_not_that_its_key_changed(tmp_path: Path):
    """A stage with no object under any key for the date read "no object for its key (new inputs, params or
    code)", as if something had changed since it was built; it was never built. A stage built under another key
    keeps that reason, by the ledger or, the ledger lost, by the store's action records."""
    import shutil

    from tests.conftest import run_cli

    home = tmp_path / "home"
    built = run_doit(home, "salaries", "date=2019-10-30")
    assert built.returncode == 0, built.stdout + built.stderr

    def reasons(**env: str) -> dict[str, str]:
        result = run_cli(home, "status", "2019-10-30", "--json", **env)
        assert result.returncode == 1, result.stdout + result.stderr
        return {s["stage"]: s["reason"] for s in json.loads(result.stdout)["dates"][0]["stages"]}

    fresh = reasons()
    assert fresh["salaries"] == "" and fresh["game_logs"] == "never built for this date", fresh
    assert fresh["calibration"] == "never built for season 2019-20" and fresh["rosters"] == "waits for game_logs"
    text = run_cli(home, "status", "2019-10-30").stdout
    assert "R game_logs    -           never ran  stale: never built for this date" in text, text
    explained = run_cli(home, "explain", "2019-10-30", "game_logs").stdout
    assert explained.startswith("game_logs 2019-10-30: STALE - never built for this date\n"), explained

    other_key = {"PROJECTIONS_PARAMS__SALARIES__PREFER": "rotoguru,dk"}
    assert reasons(**other_key)["salaries"] == "no object for its key (new inputs, params or code)"
    # its build's record removed (what `projections gc` does to a build nothing references): explain said "it was
    # never built for 2019-10-30"; the ledger remembers the build
    (record,) = [p for p in LocalStore(home).iter_action_paths() if json.loads(p.read_bytes())["stage"] == "salaries"]
    kept = record.read_bytes()
    record.unlink()
    explained = run_cli(home, "explain", "2019-10-30", "salaries", **other_key).stdout
    assert "never built" not in explained and "no earlier build of it for 2019-10-30 has its record left" \
        in explained, explained
    record.write_bytes(kept)
    shutil.rmtree(home / "ledger")
    assert reasons(**other_key)["salaries"] == "no object for its key (new inputs, params or code)"
    assert reasons(**other_key)["game_logs"] == "never built for this date"


def test_a_date_with_a_failed_stage_is_failed_before_stale_and_says_the_error():
    """One stage failed, the ones after it stale: the date is FAILED (not STALE) on its header line, and the failed
    stage's line gives its error (the state comes from the rows, so a hand-made status shows it)."""
    from projections.observe.status import DateStatus, StageStatus, render

    day = "2019-10-30"
    failed = StageStatus(day, "salaries", "failed", "", None, None, error="salaries: no DraftKings salaries")
    rows = [StageStatus(day, "schedule", "up to date", "", "xxh3-128:" + "ab" * 16, None),
            failed, StageStatus(day, "gold", "stale", "waits for salaries, which failed", None, None)]
    status = DateStatus(day, stages=rows, gold={"projections": None})
    assert status.state == "failed" and status.as_json()["state"] == "failed"
    lines = render([status, DateStatus("2019-10-31", stages=rows[2:])]).splitlines()
    assert lines[0].startswith(f"{day}  FAILED      gold: no gold  (1 up to date, 1 stale, 1 failed)"), lines
    assert any(line.startswith("  F salaries") and line.endswith("FAILED: salaries: no DraftKings salaries")
               for line in lines), lines
    assert lines[-1] == "2 dates: 1 stale, 1 failed", lines


def _ev(ts: str, event: str, **fields: object) -> dict:
    return {"ts": f"2026-01-02T03:04:{ts}.000Z", "event": event, "run": "r1", "game_date": "2019-10-30", **fields}


def test_a_failure_under_an_older_key_does_not_make_the_stage_of_a_new_key_failed():
    """gold failed under yesterday's code; the code changed since (a new key, never run): the stage is stale for
    the new key, not "failed" with the error of a build that no longer applies. A failure under the same key (or
    one recorded by older code without a key) is its failure."""
    import datetime as dt

    from projections.observe.events import Events
    from projections.observe.status import _stage_status
    from projections.plan import Plan

    old, new = "xxh3-128:" + "01" * 16, "xxh3-128:" + "02" * 16
    plan = Plan(stage="gold", game_date=dt.date(2019, 10, 30), key=new)
    broke = "gold: broke"
    for recorded, state, error in ((old, "stale", None), (new, "failed", broke), (None, "failed", broke)):
        failure = _ev("01", "stage_failure", stage="gold", error=broke, **({"key": recorded} if recorded else {}))
        row = _stage_status(plan, Events([failure]), {})
        assert (row.state, row.error, row.last_outcome) == (state, error, "failed"), recorded


def test_a_fetch_that_failed_after_a_stage_was_built_leaves_an_up_to_date_stage_up_to_date():
    """The injuries fetch failed after the stage reading it was built (the run went on with the last capture): the
    stage holds its object and stays up to date; only a stage that is not up to date is FAILED with that error."""
    import datetime as dt

    from projections.observe.events import Events
    from projections.observe.status import _stage_status
    from projections.plan import Plan

    key, obj = "xxh3-128:" + "01" * 16, "xxh3-128:" + "ab" * 16
    events = Events([_ev("01", "stage_success", stage="injuries", key=key, object=obj, seconds=1.0),
                     _ev("02", "fetch_failure", source="injuries", error="HTTP 503 Service Unavailable\nmore")])
    built = Plan(stage="injuries", game_date=dt.date(2019, 10, 30), key=key, record={"object": obj, "key": key})
    row = _stage_status(built, events, {}, ["injuries"])
    assert (row.state, row.error) == ("up to date", None), row
    stale = Plan(stage="injuries", game_date=dt.date(2019, 10, 30), key="xxh3-128:" + "02" * 16)
    row = _stage_status(stale, events, {}, ["injuries"])
    assert (row.state, row.error) == ("failed", "fetch injuries failed: HTTP 503 Service Unavailable"), row


def test_only_the_stage_whose_object_the_gold_pointer_names_is_marked_gold():
    """"-> gold" marks the published stage whose object is the date's gold; a gold stage built since under a new
    key (the pointer still names the old object), or not built, is not."""
    from projections.observe.status import DateStatus, StageStatus, render

    day, published, newer = "2019-10-30", "xxh3-128:" + "ab" * 16, "xxh3-128:" + "cd" * 16

    def gold_line(obj: str | None, state: str) -> str:
        row = StageStatus(day, "gold", state, "", obj, None, publishes="projections")  # type: ignore[arg-type]
        text = render([DateStatus(day, stages=[row], gold={"projections": published})])
        return next(line for line in text.splitlines() if line.startswith(f"  {row.mark} gold"))

    assert gold_line(published, "up to date").endswith("-> gold")
    assert "-> gold" not in gold_line(newer, "stale") and "-> gold" not in gold_line(None, "stale")


def test_the_note_of_a_skipped_date_s_failed_run_goes_once_a_later_run_skipped_the_date():
    """An off day named alone fails by design and its status notes that run; once a later backfill skipped the
    date (its run_start lists it under no_games), the old failure is no longer the date's last word."""
    from projections.observe.events import Events
    from projections.observe.status import _failed_note

    failure = _ev("01", "stage_failure", stage="schedule", error="schedule: no NBA games on 2019-10-30\nmore")
    assert _failed_note("2019-10-30", Events([failure])) == (
        "run r1 failed on it 2026-01-02 03:04:01Z: schedule: no NBA games on 2019-10-30")
    skipped_after = _ev("02", "run_start", run="r2", dates=["2019-10-30"], no_games=["2019-10-30"])
    assert _failed_note("2019-10-30", Events([failure, skipped_after])) is None
    skipped_before = {**skipped_after, "ts": "2026-01-02T03:04:00.000Z"}
    assert _failed_note("2019-10-30", Events([skipped_before, failure])) is not None


def test_an_off_day_with_a_published_slate_is_not_skipped(tmp_path: Path, monkeypatch) -> None:
    """The archive knows no games on Thanksgiving 2019, so a backfill skips it - unless a slate was published for
    it (from an inbox file, say): status then shows that slate and its stages, never "skipped"."""
    import datetime as dt

    from projections.observe.events import Events
    from projections.observe.status import collect
    from projections.settings import load_settings
    from projections.wiring import make_engine
    from tests.conftest import like_a_doit_child

    day = dt.date.fromisoformat(FAILED_DATE)
    with like_a_doit_child(monkeypatch):
        engine = make_engine(load_settings(home=tmp_path / "home"))
        engine.ensure_layout()
        [before] = collect(engine, [day], Events([]))
        assert before.state == "skipped" and before.skipped, before
        commit = engine.store.commit({"projections.parquet": b"a slate"}, {"stage": "gold", "game_date": FAILED_DATE})
        engine.store.swap_pointer("projections", FAILED_DATE, commit.object)
        [after] = collect(engine, [day], Events([]))
    assert after.skipped is None and after.state != "skipped", after
    assert after.gold == {"projections": commit.object}


def test_a_date_without_salaries_shows_its_failure_until_a_later_run_skips_it(tmp_path: Path, monkeypatch) -> None:
    """2020-01-21 has games but no DraftKings salaries in the archive: a backfill skips it. Asked for by name it
    fails, and that failure is the date's last word (ingesting its salaries is the fix) until a later run skips it
    again - status must not hide the failure behind "skipped"."""
    import datetime as dt

    from projections.observe.events import Events
    from projections.observe.status import archive_calendar, date_status
    from projections.settings import load_settings
    from projections.wiring import make_engine
    from tests.conftest import like_a_doit_child

    iso = "2020-01-21"
    with like_a_doit_child(monkeypatch):
        engine = make_engine(load_settings(home=tmp_path / "home"))
        calendar = archive_calendar(engine)
        assert calendar is not None and calendar.kind(dt.date.fromisoformat(iso)) == "no salaries"

        def skipped(*events: dict) -> str | None:
            return date_status(engine, dt.date.fromisoformat(iso), Events(list(events)), calendar).skipped

        skip = {"ts": "2026-01-02T03:04:01.000Z", "event": "run_start", "run": "r1", "no_salaries": [iso]}
        failure = _ev("02", "stage_failure", stage="salaries", game_date=iso, error="salaries: none for the date")
        assert skipped() and skipped(skip) and "no DraftKings salaries" in str(skipped(skip))
        assert skipped(skip, failure) is None  # asked for by name after the skip: its failure shows
        assert skipped(failure, {**skip, "ts": "2026-01-02T03:04:03.000Z"})  # skipped again since


COUNT_OPENS = """
import json, os, sys
actions = os.path.join(os.environ["PROJECTIONS_HOME"], "store", "actions")
opened = set()


def hook(event, args):
    if event == "open" and isinstance(args[0], (str, os.PathLike)):
        path = os.fspath(args[0])
        if isinstance(path, str) and path.startswith(actions) and os.path.isfile(path):
            opened.add(path)


sys.addaudithook(hook)
from projections.cli import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    json.dump(sorted(opened), out)
sys.exit(code)
"""


def test_the_status_of_a_date_not_built_yet_reads_no_other_dates_action_records(built_home: Path, tmp_path: Path):
    """Whether a stage was "never built" for a date is the ledger's answer when it knows builds of that stage; the
    store was asked as well, and that reads every action record in it (a season's store: thousands of files, over
    a second) on every look at a date not built yet - today's before its first run. Only the records of the
    date's own keys are read; the reasons are the same."""
    import subprocess
    import sys

    from projections.hashing import hex_of
    from tests.conftest import REPO, project_env

    opened_file = tmp_path / "opened.json"
    result = subprocess.run([sys.executable, "-c", COUNT_OPENS, str(opened_file), "status", "2019-10-31", "--json"],
                            env=project_env(built_home), capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 1, result.stdout + result.stderr
    stages = {s["stage"]: s for s in json.loads(result.stdout)["dates"][0]["stages"]}
    assert stages["schedule"]["reason"] == "never built for this date", stages["schedule"]
    own = {str(built_home / "store" / "actions" / hex_of(s["key"])[:2] / f"{hex_of(s['key'])[2:]}.json")
           for s in stages.values() if s["key"]}
    others = set(json.loads(opened_file.read_text())) - own
    assert len(list((built_home / "store" / "actions").glob("*/*.json"))) > len(own)  # there are others to read
    assert not others, sorted(others)
