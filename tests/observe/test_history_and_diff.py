"""`projections history` (runs, stage runs, pointer moves, failures, alerts) and `projections diff`."""

from __future__ import annotations

import json
import re

import pandas as pd

from projections.store import LocalStore
from tests.observe.conftest import BUMP, DATES, FAILED_DATE, RERUN_DATE, Observed, cli


def test_history_lists_both_runs_and_both_pointer_moves(observed: Observed):
    result = cli(observed.home, observed.code, "history", RERUN_DATE, "--json")
    assert result.returncode == 0, result.stderr
    blocks = json.loads(result.stdout)["blocks"]
    assert [b["outcome"] for b in blocks] == ["ok", "ok"]
    assert blocks[0]["dates"] == list(DATES) and blocks[1]["dates"] == [RERUN_DATE]
    moves = [e["event"] for b in blocks for e in b["entries"] if e["kind"] == "publish"]
    assert [m["object"] for m in moves] == [observed.first_gold[RERUN_DATE], observed.rerun_gold]
    assert moves[1]["previous"] == observed.first_gold[RERUN_DATE]
    built = [e["stage"] for e in blocks[0]["entries"] if e["kind"] == "stage_success"]
    assert sorted(built) == sorted(observed.stages)

    text = cli(observed.home, observed.code, "history", RERUN_DATE).stdout
    assert text.startswith(f"history of {RERUN_DATE}: 2 run(s), 2 pointer move(s), 0 failure(s), 0 alert(s)")
    assert f"gold/projections -> {observed.rerun_gold[9:19]} (was {observed.first_gold[RERUN_DATE][9:19]})" in text
    (quiet,) = [line.strip() for line in text.splitlines() if line.endswith(": up to date (nothing to do)")]
    assert set(quiet.split(":")[0].split(", ")) == set(observed.stages) - {"gold"}


def test_history_of_a_failed_date_shows_the_failure_and_the_alerts(observed: Observed):
    text = cli(observed.home, observed.code, "history", FAILED_DATE).stdout
    assert f"run {observed.failed_run}" in text and "FAILED in" in text
    assert re.search(r"  schedule +FAILED after \d", text)
    assert "no NBA games on 2019-11-28" in text
    assert "alert (stage_failure) sent via webhook to http://127.0.0.1:9/hook" in text
    assert "ALERT (stage_failure) NOT DELIVERED via email: SMTP connect to 127.0.0.1:2525 refused" in text
    head = re.match(r"history of 2019-11-28: 1 run\(s\), 0 pointer move\(s\), (\d+) failure\(s\), (\d+) alert", text)
    assert head and int(head.group(1)) >= 1 and int(head.group(2)) >= 2, text.splitlines()[0]


def test_history_of_an_untouched_date(observed: Observed):
    result = cli(observed.home, observed.code, "history", "2019-12-25")
    assert result.returncode == 0 and "nothing in the ledger for this date" in result.stdout


def _slate(observed: Observed, obj: str) -> pd.DataFrame:
    return pd.read_parquet(LocalStore(observed.home).path(obj, "projections.parquet"))


def test_diff_defaults_to_gold_against_the_slate_it_replaced(observed: Observed):
    result = cli(observed.home, observed.code, "diff", RERUN_DATE, "--json")
    assert result.returncode == 0, result.stderr
    d = json.loads(result.stdout)
    assert d["old"] == observed.first_gold[RERUN_DATE] and d["new"] == observed.rerun_gold
    old = _slate(observed, d["old"])
    assert d["rows"] == [len(old), len(old) - 1]
    assert [p["player_id"] for p in d["removed"]] == [old["player_id"].iloc[0]] and d["added"] == []
    top = d["moves"]["dk_mean"][0]
    assert top["player_name"] == old["player_name"].iloc[5] and abs(top["delta"] - (BUMP + 0.25)) < 1e-6
    assert d["changed"]["dk_mean"] == len(old) - 1 and d["changed"]["salary"] == 0
    assert ("ownership" in d["missing"]) == ("ownership" not in old.columns)

    text = cli(observed.home, observed.code, "diff", RERUN_DATE).stdout
    assert "players: 0 added, 1 removed" in text and f"- {old['player_name'].iloc[0]}" in text
    assert f"(+{BUMP + 0.25:.2f})" in text and "salary: unchanged" in text


def test_diff_of_two_named_objects_by_prefix(observed: Observed):
    old, new = observed.rerun_gold[9:17], observed.first_gold[RERUN_DATE][9:17]
    d = json.loads(cli(observed.home, observed.code, "diff", RERUN_DATE, old, new, "--json").stdout)
    assert d["old"] == observed.rerun_gold and len(d["added"]) == 1 and d["removed"] == []
    other = json.loads(cli(observed.home, observed.code, "diff", DATES[1], observed.first_gold[DATES[0]],
                           observed.first_gold[DATES[1]], "--json").stdout)
    assert len(other["added"]) > 0 and len(other["removed"]) > 0
    # a slate of another date is labelled as one (it read "never published for this date")
    assert other["old_label"] == f"a slate of {DATES[0]}, not of {DATES[1]}", other["old_label"]


def test_diff_errors_are_clear(observed: Observed):
    once = cli(observed.home, observed.code, "diff", DATES[1])
    assert once.returncode == 2 and "there is no earlier slate" in once.stderr
    none = cli(observed.home, observed.code, "diff", FAILED_DATE)
    assert none.returncode == 2 and "nothing published for 2019-11-28" in none.stderr
    # Thanksgiving: an off day has no slate to build (it said "run `doit slate date=...`", which fails there)
    assert "no games that day (an off day" in none.stderr and "doit slate" not in none.stderr, none.stderr
    unbuilt = cli(observed.home, observed.code, "diff", "2019-12-02")  # a slate day this root never built
    assert unbuilt.returncode == 2 and "nothing published for 2019-12-02 yet (run `doit slate date=2019-12-02`)" \
        in unbuilt.stderr, unbuilt.stderr
    # games but no DraftKings salaries in the archive: `doit slate` would fail there too; the fix is the salaries
    unpriced = cli(observed.home, observed.code, "diff", "2020-01-21")
    assert unpriced.returncode == 2 and "nothing published for 2020-01-21: the archive has its games but no " \
        "DraftKings salaries; add them with `projections ingest dk-salaries FILE`, then `doit slate " \
        "date=2020-01-21`" in unpriced.stderr, unpriced.stderr
    # a season the archive does not hold: not an off day, not a date to build; the fix is adding the season
    outside = cli(observed.home, observed.code, "diff", "2030-01-05")
    assert outside.returncode == 2 and "nothing published for 2030-01-05: the archive's schedule does not cover " \
        "it; add that season with `projections ingest game-logs FILE`" in outside.stderr, outside.stderr
    bad = cli(observed.home, observed.code, "diff", RERUN_DATE, "zz", "ffff")
    assert bad.returncode == 2 and "not an object hash" in bad.stderr
    one = cli(observed.home, observed.code, "diff", RERUN_DATE, "abcd")
    assert one.returncode == 2 and "give two objects" in one.stderr
    store = LocalStore(observed.home)
    schedule = next(r["object"] for r in (json.loads(p.read_bytes()) for p in store.iter_action_paths())
                    if r["stage"] == "schedule")
    other = cli(observed.home, observed.code, "diff", RERUN_DATE, schedule[9:17], observed.rerun_gold[9:17])
    assert other.returncode == 2 and f"object {schedule[9:19]} is a schedule object, not a published slate; " \
        "name two slates" in other.stderr, other.stderr  # it compared the schedule's rows with the slate's, exit 0
    for result in (once, none, bad, one, other):
        assert "Traceback" not in result.stderr


def test_history_tells_runs_apart_by_their_environment_overrides(tmp_path):
    """The same command with another parameter set in the environment reads as what it was."""
    from tests.conftest import FIXTURE_DATE, run_cli, run_doit

    home = tmp_path / "home"
    for extra in ({}, {"PROJECTIONS_PARAMS__SIM__DRAWS": "1001"}):
        assert run_doit(home, "schedule", f"date={FIXTURE_DATE}", **extra).returncode == 0
    blocks = json.loads(run_cli(home, "history", FIXTURE_DATE, "--json").stdout)["blocks"]
    plain, overridden = (b["command"] for b in blocks)
    assert plain.startswith("doit ") and overridden == "PROJECTIONS_PARAMS__SIM__DRAWS=1001 " + plain


def test_history_lists_only_the_stage_runs_a_run_made(tmp_path):
    """`doit minutes` runs minutes and what it needs: its block names those up to date, never sim or gold."""
    from stages import PIPELINE
    from tests.conftest import FIXTURE_DATE, run_cli, run_doit

    home = tmp_path / "home"
    for task in ("slate", "minutes", "slate"):
        assert run_doit(home, task, f"date={FIXTURE_DATE}").returncode == 0
    blocks = json.loads(run_cli(home, "history", FIXTURE_DATE, "--json").stdout)["blocks"]
    assert [b["end"]["up_to_date"] for b in blocks] == [0, 9, 13]
    quiet = [[e["event"]["stages"] for e in b["entries"] if e["kind"] == "quiet"] for b in blocks]
    minutes = [*PIPELINE.upstream("minutes"), "minutes"]
    assert len(minutes) == 9 and quiet[0] == [] and sorted(quiet[1][0]) == sorted(minutes)
    assert sorted(quiet[2][0]) == sorted(PIPELINE.order)
    text = run_cli(home, "history", FIXTURE_DATE).stdout
    block = text.split(" run ")[2]
    assert " minutes date=" in block and "rates" not in block and "gold" not in block, block


def test_a_run_recorded_by_older_code_lists_only_the_stages_the_date_had_then(tmp_path):
    """Older code's run_start named neither its tasks nor its stages. Such a run was taken for the whole slate of
    the stages the date has ever seen, so a 4-stage run from before an upgrade listed the 9 newer stages as "up to
    date (nothing to do)" although its own summary said 0 were."""
    from tests.conftest import FIXTURE_DATE, run_cli, run_doit

    home = tmp_path / "home"
    for task in ("schedule", "schedule", "slate"):
        assert run_doit(home, task, f"date={FIXTURE_DATE}").returncode == 0
    (ledger,) = (home / "ledger").glob("*.jsonl")
    records = [json.loads(line) for line in ledger.read_text().splitlines()]
    starts = [r for r in records if r["event"] == "run_start"]
    for record in starts[:2]:  # as older code wrote them
        del record["stages"], record["tasks"]
    ledger.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    blocks = json.loads(run_cli(home, "history", FIXTURE_DATE, "--json").stdout)["blocks"]
    assert [b["end"]["up_to_date"] for b in blocks] == [0, 1, 1]
    quiet = [[e["event"]["stages"] for e in b["entries"] if e["kind"] == "quiet"] for b in blocks]
    assert quiet == [[], [["schedule"]], [["schedule"]]], quiet


def test_after_gc_removed_the_slate_before_explain_and_diff_say_so(tmp_path):
    """gc --keep 1 removes the build before the current one: explain said "its first build (no earlier build in
    the ledger)", which history contradicts, and diff failed with "object ... is not in the store"."""
    from tests.conftest import FIXTURE_DATE, run_cli, run_doit

    home = tmp_path / "home"
    for extra in ({}, {"PROJECTIONS_PARAMS__SIM__DRAWS": "1001"}):
        assert run_doit(home, "slate", f"date={FIXTURE_DATE}", **extra).returncode == 0
    both = run_cli(home, "diff", FIXTURE_DATE, PROJECTIONS_PARAMS__SIM__DRAWS="1001")
    assert both.returncode == 0, both.stderr
    collected = run_cli(home, "gc", "--keep", "1", "--grace", "0", PROJECTIONS_PARAMS__SIM__DRAWS="1001")
    assert collected.returncode == 0, collected.stdout + collected.stderr
    diff = run_cli(home, "diff", FIXTURE_DATE, PROJECTIONS_PARAMS__SIM__DRAWS="1001")
    assert diff.returncode == 2 and "Traceback" not in diff.stderr, diff.stderr
    assert "was removed by `projections gc`, so there is nothing to compare with" in diff.stderr, diff.stderr
    why = json.loads(run_cli(home, "explain", FIXTURE_DATE, "sim", "--json",
                             PROJECTIONS_PARAMS__SIM__DRAWS="1001").stdout)
    assert "the 1 earlier build(s) in the ledger" in json.dumps(why) and "removed by `projections gc`" in \
        json.dumps(why), why


def test_diff_labels_a_slate_whose_move_went_unrecorded_as_published(tmp_path):
    """A run of older code killed between its pointer swap and its ledger line (newer code leaves a note and
    records such a move) published a slate the ledger names only as the one the next move replaced: diff called
    it "never published for this date" while history said the next move was "(was ...)"."""
    from tests.conftest import FIXTURE_DATE, run_cli, run_doit

    home = tmp_path / "home"
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}").returncode == 0
    (ledger,) = (home / "ledger").glob("*.jsonl")
    lines = [line for line in ledger.read_text().splitlines() if json.loads(line)["event"] != "publish"]
    ledger.write_text("".join(line + "\n" for line in lines))
    assert run_doit(home, "slate", f"date={FIXTURE_DATE}", PROJECTIONS_PARAMS__SIM__DRAWS="1001").returncode == 0
    diff = json.loads(run_cli(home, "diff", FIXTURE_DATE, "--json", PROJECTIONS_PARAMS__SIM__DRAWS="1001").stdout)
    assert diff["old_label"].startswith("published by a run that did not record it, replaced "), diff["old_label"]
    assert diff["new_label"].startswith("published ") and diff["new_label"].endswith(", the gold object")


def test_history_says_a_backfill_skipped_the_date_and_why(tmp_path):
    """A range over Christmas Eve 2019 skips it (no games), and its run_start says so; history said "nothing in
    the ledger for this date (never selected by a run)"."""
    from tests.conftest import run_cli, run_doit

    home = tmp_path / "home"
    assert run_doit(home, "schedule", "date=2019-12-24..2019-12-25").returncode == 0
    text = run_cli(home, "history", "2019-12-24").stdout
    assert "history of 2019-12-24: 1 run(s)" in text and "skipped: no NBA games" in text, text
    assert "[2019-12-25; skipped 2019-12-24]" in text, text


def test_history_names_the_dates_a_run_skipped_in_its_header(tmp_path):
    """A run whose every date was skipped (the one-day range D..D of an off day) selected that date: its header
    named "[?]", as if the run had selected nothing."""
    from tests.conftest import run_cli, run_doit

    home = tmp_path / "home"
    assert run_doit(home, "schedule", "date=2019-12-24..2019-12-24").returncode == 0
    text = run_cli(home, "history", "2019-12-24").stdout
    assert "[skipped 2019-12-24]" in text and "[?]" not in text, text
    (block,) = json.loads(run_cli(home, "history", "2019-12-24", "--json").stdout)["blocks"]
    assert block["dates"] == [] and block["skipped"] == ["2019-12-24"], block


def _wait_for(predicate, proc, seconds: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + seconds
    while not predicate():
        assert proc.poll() is None and time.monotonic() < deadline, "the run did not get there in time"
        time.sleep(0.05)


def test_history_of_an_interrupted_and_of_a_killed_run_says_what_did_not_run(tmp_path):
    """Stages a Ctrl-C'd run never reached read "up to date (nothing to do)"; a run killed before any stage of the
    date started read "nothing to do for this date (every stage was up to date)"."""
    import signal
    import subprocess

    from projections import locks
    from tests.conftest import FIXTURE_DATE, REPO, ctrl_c_default, doit_argv, ledger_events, project_env, run_cli

    home = tmp_path / "home"
    argv = doit_argv("slate", f"date={FIXTURE_DATE}")
    proc = subprocess.Popen(argv, env=project_env(home), cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=ctrl_c_default)
    _wait_for(lambda: (home / "ledger").is_dir() and any(e["event"] == "stage_success" for e in ledger_events(home)),
              proc)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) in (130, -signal.SIGINT)
    interrupted = run_cli(home, "history", FIXTURE_DATE).stdout
    assert "INTERRUPTED" in interrupted and "not run (the run was interrupted)" in interrupted, interrupted
    assert "up to date (nothing to do)" not in interrupted, interrupted

    with locks.hold(home / "locks" / f"date={FIXTURE_DATE}.lock", what="the test", notify=lambda _: None):
        proc = subprocess.Popen(argv, env=project_env(home), cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        runs = sum(e["event"] == "run_start" for e in ledger_events(home))
        _wait_for(lambda: sum(e["event"] == "run_start" for e in ledger_events(home)) > runs, proc)
        proc.kill()  # waiting for the date's lock: before any stage of the date started
        proc.wait(timeout=30)
    killed = run_cli(home, "history", FIXTURE_DATE).stdout.rstrip().splitlines()[-2:]
    assert "UNFINISHED" in killed[0], killed
    assert killed[1].strip() == "nothing of this date recorded: the run ended before any stage of it ran (killed?)"


def test_a_player_name_from_a_file_cannot_forge_lines_of_diff():
    """A DraftKings file's name cell with a newline printed as a line of its own (`Evil\\n  + Fake Player`)."""
    from projections.observe.slatediff import LABELS, Move, SlateDiff, render

    col = next(iter(LABELS))
    d = SlateDiff(game_date="2019-10-30", old="xxh3-128:" + "a" * 32, new="xxh3-128:" + "b" * 32, old_label="old",
                  new_label="new", rows=(1, 2), added=[{"player_id": "9", "player_name": "Evil\n  + Fake Player",
                                                        "team": "B\tOS"}],
                  changed={col: 1}, mean_delta={col: 1.0}, moves={col: [Move("1", "Also\nEvil", "LAL", 1.0, 2.0)]})
    text = render(d)
    assert "  + Evil\\n  + Fake Player  B\\tOS" in text and "  Also\\nEvil  LAL" in text, text
    assert len(text.splitlines()) == 7, text


def test_a_publish_line_edited_to_name_no_object_is_no_publish():
    """A ledger publish line whose object is no digest (edited by hand): diff stopped with a ValueError traceback
    reading it as the slate before; it is passed over, and the real move before it is found."""
    from projections.observe.events import Events
    from projections.observe.slatediff import previous_published

    gold, before = "xxh3-128:" + "1" * 32, "xxh3-128:" + "2" * 32
    events = Events([{"event": "publish", "game_date": "2019-10-30", "object": before},
                     {"event": "publish", "game_date": "2019-10-30", "object": gold, "previous": before},
                     {"event": "publish", "game_date": "2019-10-30", "object": "notadigest", "previous": gold}])
    assert previous_published(events, "2019-10-30", gold) == before
    assert previous_published(events, "2019-10-30", "xxh3-128:" + "3" * 32) == gold


NO_CALENDAR = """
import sys
from projections import archive_calendar


def refuse(cls, home):
    raise SystemExit("the archive calendar was read")


archive_calendar.Calendar.of = classmethod(refuse)
from projections.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_diff_of_a_published_slate_does_not_read_the_archive_calendar(observed: Observed):
    """The calendar (every part of the archive, on a cold cache) only words the answer for a date without a slate;
    read for every diff, a damaged part failed the diff of a published one."""
    import subprocess
    import sys

    from tests.conftest import project_env

    result = subprocess.run([sys.executable, "-c", NO_CALENDAR, "diff", RERUN_DATE, "--json"],
                            env=project_env(observed.home), capture_output=True, text=True, timeout=120,
                            cwd=observed.code)
    assert result.returncode == 0 and json.loads(result.stdout)["new"], result.stdout + result.stderr
    off_day = subprocess.run([sys.executable, "-c", NO_CALENDAR, "diff", FAILED_DATE], env=project_env(observed.home),
                             capture_output=True, text=True, timeout=120, cwd=observed.code)
    assert "the archive calendar was read" in off_day.stderr  # the guard works: an unpublished date reads it
