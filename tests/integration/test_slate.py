"""`doit slate` end to end on the real fixture date, in real processes: build, no-op, status, manifests."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pandas as pd

from tests.conftest import FIXTURE_DATE, gold_object, ledger_events, run_cli, run_doit

STAGES_OF_DATE = None  # filled lazily from the pipeline


def stage_names() -> list[str]:
    from stages import PIPELINE

    return PIPELINE.order


def status_lines(home: Path, dates: str = FIXTURE_DATE) -> dict[str, str]:
    result = run_doit(home, "list", "--status", f"date={dates}")
    assert result.returncode == 0, result.stderr
    out = {}
    for line in result.stdout.splitlines():
        m = re.match(r"^([RU]) (\S+)", line)
        if m:
            out[m.group(2)] = m.group(1)
    return out


def test_slate_publishes_every_dk_player_of_the_real_slate(built_home: Path):
    obj = gold_object(built_home)
    assert obj is not None
    link = built_home / "gold" / "projections" / f"game_date={FIXTURE_DATE}"
    slate = pd.read_parquet(link / "projections.parquet")
    dk = pd.read_csv(Path(__file__).resolve().parents[2].parent / "shared/data/nba/salaries/dk/"
                     "2019-10-30__bradical1379__DKSalaries__cda50cde.csv") \
        if (Path(__file__).resolve().parents[2].parent / "shared").exists() else None
    assert len(slate) == 367 and slate["player_id"].is_unique
    if dk is not None:
        assert set(slate["dk_id"].astype("int64")) == set(dk["ID"])
    stars = slate.set_index("player_name")
    assert stars.loc["Giannis Antetokounmpo", "dk_mean"] > 40 > slate["dk_mean"].median()
    manifest = json.loads((link / "manifest.json").read_text())
    for field in ("stage", "key", "inputs", "params", "code_version", "rows", "timings", "host", "as_of"):
        assert manifest.get(field) is not None, field
    assert manifest["rows"] == 367 and manifest["object"] == obj
    assert (link / "dk_projections.csv").read_text().startswith("Position,Name + ID,Name,ID,")


def test_second_run_runs_no_stage_and_says_everything_is_up_to_date(built_home: Path):
    before = len(ledger_events(built_home))
    gold_before = gold_object(built_home)
    result = run_doit(built_home, "slate", f"date={FIXTURE_DATE}")
    assert result.returncode == 0, result.stderr
    for name in stage_names():
        assert re.search(rf"up to date\s+{name}\s+{FIXTURE_DATE}", result.stdout), (name, result.stdout)
    assert "0 built" in result.stdout and "0 failed" in result.stdout
    new = ledger_events(built_home)[before:]
    assert [e for e in new if e["event"] in ("stage_start", "stage_success", "publish")] == []
    assert gold_object(built_home) == gold_before


def test_list_status_is_U_for_every_stage_after_a_build(built_home: Path):
    status = status_lines(built_home)
    for name in stage_names():
        assert status[f"{name}:{FIXTURE_DATE}"] == "U", status
        assert status[name] == "U"
    assert status["slate"] == "U"


def test_list_status_on_an_empty_root_is_R_everywhere(home: Path):
    status = status_lines(home)
    assert {v for k, v in status.items()} == {"R"}
    assert f"gold:{FIXTURE_DATE}" in status
    assert not (home / "store" / "objects").exists() or not any((home / "store" / "objects").iterdir())


def test_list_status_of_a_date_no_run_builds_says_why_on_stderr(home: Path):
    """`doit list --status` listed an off day, a day without salaries and a day beyond the archive all R, as if a
    build would fix them; `doit slate` skips or refuses each. A note on stderr says so; stdout stays the listing."""
    for date, says in (("date=2019-12-24", "2019-12-24 has no NBA games: `doit slate` skips it in a range"),
                       ("date=2020-01-21", "2020-01-21 has no DraftKings salaries in the archive"),
                       (None, "lies outside what the archive's schedule covers: `doit slate` refuses it")):
        result = run_doit(home, "list", "--status", *([date] if date else []))
        assert result.returncode == 0, result.stderr
        assert result.stderr.startswith("note: ") and says in result.stderr, result.stderr
        assert "note:" not in result.stdout and result.stdout.startswith("R "), result.stdout
    plain = run_doit(home, "list", "--status", f"date={FIXTURE_DATE}")
    assert plain.returncode == 0 and plain.stderr == "", plain.stderr


def test_doits_own_help_and_list_say_how_to_name_the_dates(home: Path):
    """`doit help slate` and `doit list` - where a user of doit looks first - described the slate task without a
    word of date=, the one variable it needs for any date but today's."""
    for argv in (("help", "slate"), ("list",)):
        result = run_doit(home, *argv)
        [line] = [line for line in result.stdout.splitlines() if line.split()[:1] == ["slate"]]
        assert "date=YYYY-MM-DD, a range date=A..B or a list date=A,B (default: today's slate date)" in line, line


def test_every_stage_run_is_in_the_ledger_with_a_manifest(built_home: Path):
    events = [e for e in ledger_events(built_home) if e.get("game_date") == FIXTURE_DATE]
    successes = {e["stage"]: e for e in events if e["event"] == "stage_success"}
    assert set(successes) == set(stage_names())
    starts = [e["stage"] for e in events if e["event"] == "stage_start"]
    assert sorted(starts) == sorted(stage_names())  # each stage ran exactly once
    assert [e["event"] for e in events].count("publish") == 1
    for event in successes.values():
        obj = event["object"].split(":")[1]
        manifest = json.loads((built_home / "store" / "objects" / obj[:2] / obj[2:] / "manifest.json").read_text())
        assert manifest["stage"] == event["stage"] and manifest["key"] == event["key"]
        assert set(manifest["timings"]) >= {"load_s", "run_s", "check_s"}
    runs = {e["event"] for e in ledger_events(built_home)}
    assert {"run_start", "run_end"} <= runs


def test_verify_is_clean_after_a_build(built_home: Path):
    result = run_cli(built_home, "verify")
    assert result.returncode == 0, result.stdout + result.stderr
    assert ": ok" in result.stdout


def test_same_inputs_same_bytes_in_another_data_root(built_home: Path, home: Path):
    result = run_doit(home, "gold", f"date={FIXTURE_DATE}")
    assert result.returncode == 0, result.stderr
    assert gold_object(home) == gold_object(built_home)


def test_the_same_bytes_whatever_the_blas_thread_count(tmp_path: Path):
    """The calibration's regressions are matrix products whose rounding depends on how many threads OpenBLAS
    splits them over (a Dask worker runs with one): the engine runs every stage on one BLAS thread, so a
    process started with several builds the very same object."""
    objects = []
    for threads in ("1", "2"):
        home = tmp_path / f"threads-{threads}"
        result = run_doit(home, "calibration", f"date={FIXTURE_DATE}", OPENBLAS_NUM_THREADS=threads,
                          OMP_NUM_THREADS=threads)
        assert result.returncode == 0, result.stdout + result.stderr
        records = [e for e in ledger_events(home) if e["event"] == "stage_success"]
        assert [e["stage"] for e in records] == ["schedule", "calibration"]  # a date's stages wait for its clock
        objects.append(records[1]["object"])
    assert objects[0] == objects[1]


def test_one_stage_builds_only_what_it_needs(home: Path):
    result = run_doit(home, "salaries", f"date={FIXTURE_DATE}")
    assert result.returncode == 0, result.stderr
    status = status_lines(home)
    assert status[f"schedule:{FIXTURE_DATE}"] == "U" and status[f"salaries:{FIXTURE_DATE}"] == "U"
    assert status[f"game_logs:{FIXTURE_DATE}"] == "R" and status[f"gold:{FIXTURE_DATE}"] == "R"
    assert gold_object(home) is None


def test_a_task_name_as_doit_list_prints_it_builds_its_date(home: Path):
    """`doit salaries:D` (no date=) builds D, as the name says, not today's slate."""
    result = run_doit(home, f"salaries:{FIXTURE_DATE}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"built      salaries   {FIXTURE_DATE}" in result.stdout
    status = status_lines(home)
    assert status[f"salaries:{FIXTURE_DATE}"] == "U" and status[f"game_logs:{FIXTURE_DATE}"] == "R"


def test_a_backfill_skips_dates_without_games(built_home: Path, tmp_path: Path):
    """Christmas Eve 2019 had no games: a range over it builds the other dates and says so; asked for by
    name, the same date fails with a clear message (see test_bad_input)."""
    import shutil

    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True)
    result = run_doit(home, "slate", "date=2019-12-23..2019-12-25")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 dates ok; 1 without games skipped (2019-12-24)" in result.stdout
    assert gold_object(home, "2019-12-23") and gold_object(home, "2019-12-25")
    assert gold_object(home, "2019-12-24") is None
    start = [e for e in ledger_events(home) if e["event"] == "run_start"][-1]
    assert start["no_games"] == ["2019-12-24"] and start["dates"] == ["2019-12-23", "2019-12-25"]


def test_a_backfill_publishes_each_date_before_it_starts_the_next(home: Path):
    """doit's dispatcher went breadth first: every date's first stage, then every date's second, and every gold
    pointer moved at the end, so a backfill killed at 90% had published nothing. Now date after date."""
    days = ["2019-11-01", "2019-11-02", "2019-11-03"]
    result = run_doit(home, "slate", f"date={days[0]}..{days[-1]}")
    assert result.returncode == 0, result.stdout + result.stderr
    events = ledger_events(home)
    order = [(e["event"], e["game_date"]) for e in events if e["event"] in ("stage_start", "publish")]
    for day, after in itertools.pairwise(days):
        assert order.index(("publish", day)) < order.index(("stage_start", after)), order
    assert [d for kind, d in order if kind == "publish"] == days


def test_a_backfill_skips_dates_without_salaries(built_home: Path, tmp_path: Path):
    """2020-01-21 had games but the archive holds no DraftKings salary file for it: a backfill lists it and
    moves on (exit 0); asked for by name, it fails and says how to add the salaries."""
    import shutil

    home = tmp_path / "home"
    shutil.copytree(built_home, home, symlinks=True)
    result = run_doit(home, "slate", "date=2019-12-24,2020-01-21")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 without games skipped (2019-12-24); 1 without DraftKings salaries skipped (2020-01-21: " \
           "`projections ingest dk-salaries FILE` adds them)" in result.stdout
    start = [e for e in ledger_events(home) if e["event"] == "run_start"][-1]
    assert start["no_salaries"] == ["2020-01-21"] and start["no_games"] == ["2019-12-24"] and start["dates"] == []
    alone = run_doit(home, "slate", "date=2020-01-21")
    assert alone.returncode != 0
    assert "no DraftKings salaries for 2020-01-21" in alone.stdout + alone.stderr
    def state() -> dict:
        return json.loads(run_cli(home, "status", "2020-01-21", "--json").stdout)["dates"][0]

    assert state()["state"] == "failed"  # the run that named it failed: status says so
    run_doit(home, "slate", "date=2019-12-24,2020-01-21")
    again = state()  # a later backfill skipped it again: that is its last word
    assert again["state"] == "skipped" and "no DraftKings salaries for 2020-01-21" in again["skipped"], again
    assert gold_object(home, "2020-01-21") is None
