"""A gold pointer moved onto another date's slate is named by `projections verify` and put back by the next build.

An object is the hash of its bytes, so one object can be produced by several keys (another date or stage that
made the same bytes): a pointer for date D is right when SOME action record of the publishing stage for D
names its object, whatever the object's manifest (its first producer) says.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from projections.store import LocalStore
from projections.verify import verify
from tests.conftest import built_root, gold_object, ledger_events, run_cli, run_doit

DAY, OTHER = "2019-11-06", "2019-11-07"


@pytest.fixture(scope="module")
def two_dates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    yield built_root(tmp_path_factory, "two-dates", "-n", "2", "slate", f"date={DAY},{OTHER}", timeout=600)


def test_a_pointer_onto_another_dates_slate_is_named_and_rebuilt(two_dates: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(two_dates, home, symlinks=True)
    own, other = gold_object(home, DAY), gold_object(home, OTHER)
    assert own and other and own != other
    gold = home / "gold" / "projections"
    subprocess.run(["ln", "-sfn", os.readlink(gold / f"game_date={OTHER}"), str(gold / f"game_date={DAY}")],
                   check=True)
    assert gold_object(home, DAY) == other

    report = run_cli(home, "verify")
    assert report.returncode == 1, report.stdout + report.stderr
    [problem] = [line for line in report.stdout.splitlines() if line.startswith("PROBLEM")]
    assert f"gold pointer projections {DAY}" in problem and other.split(":")[1][:10] in problem
    assert f"produced by gold for {OTHER}, not by gold for {DAY}" in problem
    assert f"doit slate date={DAY}" in problem
    as_json = json.loads(run_cli(home, "verify", "--json").stdout)
    assert as_json["ok"] is False and as_json["problems"] == [problem.removeprefix("PROBLEM  ")]

    rebuilt = run_doit(home, "slate", f"date={DAY}")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert gold_object(home, DAY) == own and gold_object(home, OTHER) == other
    after = run_cli(home, "verify")
    assert after.returncode == 0, after.stdout


def test_a_pointer_replaced_by_a_copy_of_its_slate_is_named_never_overwritten(two_dates: Path, tmp_path: Path) -> None:
    """`cp -r` of the slate where its pointer was: doit said "cannot write to the data root ...: Is a directory
    ... make it writable or free disk space", report promised "the date's next publish replaces it" (it never
    did). Every command now names the directory and says to move it away; none touches it."""
    home = tmp_path / "home"
    shutil.copytree(two_dates, home, symlinks=True)
    own = gold_object(home, DAY)
    link = home / "gold" / "projections" / f"game_date={DAY}"
    target = link.resolve()
    link.unlink()
    shutil.copytree(target, link)
    said = f"gold pointer {link} is a directory, not a symlink to a store object, and is never replaced"
    fix = f"move it out of {link.parent} (or remove it) and rerun the date"

    rebuilt = run_doit(home, "slate", f"date={DAY}")
    assert rebuilt.returncode != 0, rebuilt.stdout + rebuilt.stderr
    out = rebuilt.stdout + rebuilt.stderr
    assert said in out and fix in out and "Traceback" not in out
    assert "free disk space" not in out and "Is a directory" not in out
    assert link.is_dir() and not link.is_symlink() and sorted(p.name for p in link.iterdir()) == sorted(
        p.name for p in target.iterdir())
    assert not [p for p in link.parent.iterdir() if p.name.startswith(".")]  # no temp symlink left
    failures = [e for e in ledger_events(home) if e["event"] == "stage_failure"]  # history and alerts see it
    assert [e["stage"] for e in failures] == ["gold"] and said in failures[0]["error"], failures
    for args in (["report"], ["status", DAY]):
        shown = run_cli(home, *args)
        assert said in shown.stderr and fix in shown.stderr, shown.stdout + shown.stderr
        assert "next publish replaces it" not in shown.stdout + shown.stderr and "Traceback" not in shown.stderr
    verified = run_cli(home, "verify")
    assert verified.returncode == 1 and said in verified.stdout, verified.stdout + verified.stderr

    os.chmod(link, 0o755)
    shutil.rmtree(link)  # the fix it names
    again = run_doit(home, "slate", f"date={DAY}")
    assert again.returncode == 0, again.stdout + again.stderr
    assert gold_object(home, DAY) == own


# ------------------------------------------------------------------ the rule, on a store built by hand


def _record(store: LocalStore, obj: str, stage: str, day: str | None, n: int, season: str | None = None) -> None:
    store.put_action({"key": f"xxh3-128:{n:032x}", "object": obj, "stage": stage, "game_date": day,
                      "season": season})


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "home")


PUBLISHERS = {"projections": ["gold"]}


def test_an_object_produced_for_several_dates_may_back_each_of_their_pointers(store: LocalStore) -> None:
    # the same bytes came out of gold for both dates: the manifest names the first, the records name both
    obj = store.commit({"data.parquet": b"same slate"}, {"stage": "gold", "game_date": "2019-11-06"}).object
    _record(store, obj, "gold", "2019-11-06", 1)
    _record(store, obj, "gold", "2019-11-07", 2)
    store.swap_pointer("projections", "2019-11-06", obj)
    store.swap_pointer("projections", "2019-11-07", obj)
    report = verify(store, publishers=PUBLISHERS)
    assert report.ok and report.pointers == 2, report.problems


def test_a_pointer_to_another_stages_object_of_its_date_is_a_problem(store: LocalStore) -> None:
    sim = store.commit({"data.parquet": b"a sim, not a slate"}, {"stage": "sim", "game_date": "2019-11-06"}).object
    _record(store, sim, "sim", "2019-11-06", 1)
    store.swap_pointer("projections", "2019-11-06", sim)
    [problem] = verify(store, publishers=PUBLISHERS).problems
    assert "produced by sim for 2019-11-06, not by gold for 2019-11-06" in problem
    assert verify(store).ok  # without the pipeline, only the date can be checked


def test_a_pointer_to_another_dates_object_without_records_names_its_manifest(store: LocalStore) -> None:
    obj = store.commit({"data.parquet": b"slate of the 7th"}, {"stage": "gold", "game_date": "2019-11-07"}).object
    store.swap_pointer("projections", "2019-11-06", obj)
    [problem] = verify(store, publishers=PUBLISHERS).problems
    assert "produced by gold for 2019-11-07 (per its manifest; no action record names it)" in problem
    [dated] = verify(store).problems
    assert "not by a stage for 2019-11-06" in dated
    # its own date's pointer is right by its manifest even when its record is gone (a damaged record is
    # reported as a record, not twice)
    store.swap_pointer("projections", "2019-11-07", obj)
    [only] = verify(store, publishers=PUBLISHERS).problems
    assert only.startswith("gold pointer projections 2019-11-06 ")


def test_a_season_scoped_producer_is_described_by_its_season(store: LocalStore) -> None:
    obj = store.commit({"data.parquet": b"calibration"}, {"stage": "calibration", "season": "2019-20"}).object
    _record(store, obj, "calibration", None, 1, season="2019-20")
    store.swap_pointer("projections", "2019-11-06", obj)
    [problem] = verify(store, publishers=PUBLISHERS).problems
    assert "produced by calibration for season 2019-20, not by gold for 2019-11-06" in problem


def test_the_lookers_name_a_pointer_moved_onto_another_object_instead_of_using_it(two_dates: Path,
                                                                                 tmp_path: Path) -> None:
    """A pointer moved onto a sim object crashed report and serve (FileNotFoundError at startup) and diff; one
    copied from another date was scored by evaluate against this date's box scores, exit 0."""
    home = tmp_path / "home"
    shutil.copytree(two_dates, home, symlinks=True)
    store = LocalStore(home)
    sim = next(r["object"] for r in (json.loads(p.read_bytes()) for p in store.iter_action_paths())
               if r["stage"] == "sim" and r["game_date"] == DAY)
    gold = home / "gold" / "projections"
    subprocess.run(["ln", "-sfn", os.path.relpath(store.object_dir(sim), gold), str(gold / f"game_date={DAY}")],
                   check=True)
    report = run_cli(home, "report", "--out", str(tmp_path / "pages"))
    assert report.returncode == 1 and "Traceback" not in report.stderr, report.stdout + report.stderr
    assert f"no page for {DAY}: " in report.stderr and "or is not that date's slate" in report.stderr
    assert (tmp_path / "pages" / f"slate-{OTHER}.html").exists()
    assert not (tmp_path / "pages" / f"slate-{DAY}.html").exists()  # no page for a pointer it cannot show
    diffed = run_cli(home, "diff", DAY)
    assert diffed.returncode == 1 and "Traceback" not in diffed.stderr, diffed.stderr
    assert f"is a sim object, not a published slate; `doit slate date={DAY}` publishes the date's own" \
        in diffed.stderr, diffed.stderr

    subprocess.run(["ln", "-sfn", os.readlink(gold / f"game_date={OTHER}"), str(gold / f"game_date={DAY}")],
                   check=True)
    scored = run_cli(home, "evaluate", DAY)
    assert scored.returncode == 1 and f"is the slate of {OTHER}, not of {DAY}" in scored.stderr, \
        scored.stdout + scored.stderr
    target = store.object_dir(gold_object(home, OTHER)) / "projections.parquet"  # a truncated slate
    os.chmod(target.parent, 0o755)
    os.chmod(target, 0o644)
    os.truncate(target, 5000)
    for argv in ((OTHER, gold_object(home, DAY)[9:17], gold_object(home, OTHER)[9:17]), (OTHER, "--json")):
        damaged = run_cli(home, "diff", *argv)
        assert damaged.returncode in (1, 2) and "Traceback" not in damaged.stderr, damaged.stderr  # ArrowInvalid
        assert "'projections.parquet' hashes to" in damaged.stderr and "`projections verify` lists" in damaged.stderr, \
            damaged.stderr


def test_a_pointer_into_another_data_roots_store_is_named_and_put_back(two_dates: Path, tmp_path: Path) -> None:
    """A gold pointer naming the right object, but in another data root (an absolute link left by a copy, or
    planted): readers of gold read that root's bytes, or none. verify said ok, status UP TO DATE, and no run
    repointed it (the object was read from the link's last two path parts alone)."""
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    shutil.copytree(two_dates, home, symlinks=True)
    own = gold_object(home, DAY)
    assert own
    link = home / "gold" / "projections" / f"game_date={DAY}"
    foreign = elsewhere / "store" / "objects" / own[9:11] / own[11:]
    subprocess.run(["ln", "-sfn", str(foreign), str(link)], check=True)
    problems = verify(LocalStore(home)).problems
    assert any(f"-> {foreign} does not name a store object of this data root" in p for p in problems), problems
    rerun = run_doit(home, "slate", f"date={DAY}")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert "1 gold pointers moved" in rerun.stdout, rerun.stdout
    assert (link.parent / os.readlink(link)).resolve() == LocalStore(home).object_dir(own).resolve()
    assert verify(LocalStore(home)).ok
