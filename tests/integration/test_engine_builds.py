"""The build engine in process, on a real data root: what a build records and reports.

- a build plans again from the store, not from what this process found up to date before: an object deleted
  since (a gc with --grace 0) is built again;
- a stop in the middle of a stage (Ctrl-C, or a stop whose handler exits: SystemExit) is `stage_interrupted` in
  the ledger, not a failure, and goes on up;
- a build that fails before it starts is recorded, even after an earlier build of the same stage and date in
  the same process ended (interrupted);
- a stage raising an exception of its own is a `stage_failure` naming the exception's type, raised as a
  StageError naming the stage and the fix;
- a damaged object is named (once) and its stage reads as stale for that reason;
- on a pipeline of the test's own stages (the engine takes any pipeline): each build is seeded from its key; a
  published stage's first build moves its gold pointer and says so; a build under a new key that makes the same
  bytes is recorded as not created (early cutoff) and moves nothing; a stage reading as_of without depending on
  the clock stage, or without declaring uses_as_of, is refused; what a stage leaves in its frames' attrs (a note)
  is not stored; a live engine plans afresh, so a capture landing mid-run makes its readers stale.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from projections import failpoints
from projections.hashing import seed_from
from projections.pipeline import Pipeline, Stage, StageContext
from projections.store import MANIFEST
from tests.conftest import FIXTURE_DATE, ledger_events, like_a_doit_child

DAY = dt.date.fromisoformat(FIXTURE_DATE)


@pytest.fixture
def settings_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Any]]:
    """Settings of a new data root as a doit child gets them (no PROJECTIONS_ variable but the cache dir); the
    process umask put back afterwards (make_engine sets the data root's)."""
    from projections.settings import load_settings

    with like_a_doit_child(monkeypatch):
        yield lambda: load_settings(home=tmp_path / "home")


def _engine(settings: Any, **kwargs: Any) -> Any:
    from projections.wiring import make_engine

    return make_engine(settings, **kwargs)


def _events(home: Path, stage: str) -> list[tuple[str, Any]]:
    return [(e["event"], e.get("error_type")) for e in ledger_events(home)
            if e.get("stage") == stage and e["event"] != "publish"]


# ------------------------------------------------------------------------------------- the real pipeline


def test_a_build_plans_again_from_the_store_not_from_what_it_found_before(settings_for) -> None:
    engine = _engine(settings_for())
    first = engine.build("schedule", DAY)
    plan = engine.plan("schedule", DAY)
    assert plan.up_to_date and plan.object == first.object  # settled for this process (archive mode)
    engine.store.delete_object(first.object)  # a gc with --grace 0 since

    again = engine.build("schedule", DAY)
    assert (again.object, again.built, again.created) == (first.object, True, True)
    assert engine.store.verify_object(first.object) == []
    assert _events(engine.home, "schedule")[-2:] == [("stage_start", None), ("stage_success", None)]


def test_a_stage_built_before_its_input_names_the_input_and_the_command(settings_for) -> None:
    """`doit -s salaries date=D` on a root without the schedule of D: the build is refused naming the missing input
    and the command that builds the stage with its inputs (not "cannot resolve its inputs"), and the refusal is in
    the ledger."""
    from projections.errors import ProjectionsError

    engine = _engine(settings_for())
    with pytest.raises(ProjectionsError, match=rf"^salaries {DAY}: its input schedule is not built; run "
                                               rf"`doit salaries date={DAY}`$"):
        engine.build("salaries", DAY)
    assert _events(engine.home, "salaries") == [("stage_failure", "ProjectionsError")]


def _exit_143(signum: int, frame: Any) -> None:
    sys.exit(143)


@pytest.mark.parametrize("signum, handler, raised", [
    (signal.SIGINT, signal.default_int_handler, KeyboardInterrupt),  # Ctrl-C
    (signal.SIGTERM, _exit_143, SystemExit),  # a stop whose handler exits
], ids=["ctrl-c", "sigterm-exit"])
def test_a_stop_in_the_middle_of_a_stage_is_recorded_as_interrupted(
        settings_for, monkeypatch: pytest.MonkeyPatch, signum: int, handler: Any,
        raised: type[BaseException]) -> None:
    engine = _engine(settings_for())
    shipped = failpoints.hit

    def hit(name: str) -> None:  # the signal arrives with the stage's object staged, not yet in place
        if name == "commit.staged":
            os.kill(os.getpid(), signum)
        shipped(name)

    monkeypatch.setattr(failpoints, "hit", hit)
    previous = signal.signal(signum, handler)
    try:
        with pytest.raises(raised):
            engine.build("schedule", DAY)
    finally:
        signal.signal(signum, previous)
    assert _events(engine.home, "schedule") == [("stage_start", None), ("stage_interrupted", raised.__name__)]
    assert not engine.plan("schedule", DAY, fresh=True).up_to_date
    monkeypatch.setattr(failpoints, "hit", shipped)
    assert engine.build("schedule", DAY).built  # the same command finishes it


def test_a_failure_after_an_earlier_ending_of_the_same_stage_in_the_process_is_recorded(
        settings_for, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engine asked whether the ledger's last record from this process ended the stage, and did not record a
    failure that it had: a build of the same stage and date that failed before it started (its date's lock held
    elsewhere), after an earlier build in the same process had been interrupted, left no trace - status said
    "stale", not "failed"."""
    from projections import locks
    from projections.errors import LockTimeout
    from projections.observe.status import collect

    engine = _engine(settings_for().model_copy(update={"lock_timeout_s": 0.2}))
    shipped = failpoints.hit

    def hit(name: str) -> None:
        if name == "commit.staged":
            raise KeyboardInterrupt
        shipped(name)

    monkeypatch.setattr(failpoints, "hit", hit)
    with pytest.raises(KeyboardInterrupt):
        engine.build("schedule", DAY)
    monkeypatch.setattr(failpoints, "hit", shipped)
    with locks.hold(engine.home / "locks" / f"date={DAY.isoformat()}.lock", what="the test's hold"), \
            pytest.raises(LockTimeout):
        engine.build("schedule", DAY)
    assert _events(engine.home, "schedule") == [
        ("stage_start", None), ("stage_interrupted", "KeyboardInterrupt"), ("stage_failure", "LockTimeout")]
    (row,) = [r for r in collect(engine, [DAY])[0].stages if r.stage == "schedule"]
    assert row.state == "failed" and "lock" in (row.error or ""), row


def test_a_damaged_object_is_named_once_and_is_why_its_stage_is_stale(settings_for) -> None:
    built = _engine(settings_for()).build("schedule", DAY)
    where = _engine(settings_for()).store.object_dir(built.object)
    os.chmod(where, 0o755)
    data = where / "data.parquet"
    os.chmod(data, 0o644)
    raw = data.read_bytes()
    data.write_bytes(raw[:100] + bytes([raw[100] ^ 1]) + raw[101:])

    said: list[str] = []
    engine = _engine(settings_for(), notify=said.append)
    plan = engine.plan("schedule", DAY, fresh=True)
    assert plan.record is None and not plan.up_to_date
    assert plan.reason.startswith("its object is damaged (file 'data.parquet' hashes to "), plan.reason
    assert plan.reason.endswith("; the next build makes it again"), plan.reason
    engine.plan("schedule", DAY, fresh=True)
    engine.plan("injuries", DAY, fresh=True)  # planned again, through a downstream stage too: said once
    assert len(said) == 1 and "schedule 2019-10-30: " in said[0] and "treated as not built" in said[0], said
    again = engine.build("schedule", DAY)
    assert (again.object, again.built, again.created) == (built.object, True, True)


# ------------------------------------------------------------------------------ a pipeline of the test's own


def seeded(*, params: Any, ctx: StageContext) -> pd.DataFrame:
    return pd.DataFrame({"seed": [ctx.seed], "key": [ctx.key]})


def constant(*, params: Any, ctx: StageContext) -> pd.DataFrame:
    return pd.DataFrame({"value": [1.5, 2.5]})


def clock(*, params: Any, ctx: StageContext) -> pd.DataFrame:
    return pd.DataFrame({"lock": ["2019-10-30T23:00:00Z"]})


def late(*, params: Any, ctx: StageContext) -> pd.DataFrame:
    return pd.DataFrame({"as_of": [str(ctx.as_of)]})


def broken(*, params: Any, ctx: StageContext) -> pd.DataFrame:
    raise ValueError("no rows for this date")


def _own(settings: Any, *stages: Stage) -> Any:
    from projections.engine import Engine

    return Engine(Pipeline(list(stages)), settings, now=None)


def test_each_build_is_seeded_from_its_key(settings_for) -> None:
    engine = _own(settings_for(), Stage(name="seeded", func=seeded, doc="its seed and key"))
    seeds = []
    for day in (DAY, DAY + dt.timedelta(days=1)):
        outcome = engine.build("seeded", day)
        frame = pd.read_parquet(engine.store.object_dir(outcome.object) / "data.parquet")
        assert frame["key"].tolist() == [outcome.key]
        assert frame["seed"].tolist() == [seed_from(outcome.key)]
        seeds.append(int(frame["seed"].iloc[0]))
    assert seeds[0] != seeds[1]  # another key, another stream of draws


def test_a_first_publish_is_reported_and_a_same_bytes_rebuild_is_not_created(settings_for) -> None:
    settings = settings_for()
    engine = _own(settings, Stage(name="constant", func=constant, doc="two rows", publish="constant"))
    first = engine.build("constant", DAY)
    assert (first.built, first.created, first.published) == (True, True, True)
    assert engine.pointer("constant", DAY) == first.object

    bumped = _own(settings, Stage(name="constant", func=constant, doc="two rows", publish="constant", version="2"))
    again = bumped.build("constant", DAY)  # a new key (its code version), the same bytes: early cutoff
    assert again.key != first.key and again.object == first.object
    assert (again.built, again.created, again.published) == (True, False, False)
    successes = [e for e in ledger_events(settings.home) if e["event"] == "stage_success"]
    assert [(e["key"], e["created"]) for e in successes] == [(first.key, True), (again.key, False)]
    assert [e["object"] for e in ledger_events(settings.home) if e["event"] == "publish"] == [first.object]
    assert bumped.store.manifest(first.object)["key"] == first.key  # the object as its first build wrote it
    assert MANIFEST not in [p.name for p in bumped.store.tmp.iterdir()]


def noted(*, params: Any, ctx: StageContext) -> pd.DataFrame:
    out = pd.DataFrame({"player_id": ["a", "b"], "value": [1.0, 2.0]})
    out.attrs["note"] = f"a note naming its build {ctx.key}"  # a word to the stage's meta, never data
    return out


def test_what_a_stage_leaves_in_its_frames_attrs_is_not_stored(settings_for) -> None:
    """A stage's note rides on its frame's attrs (salaries, lineups, odds, calibration do so); pandas writes attrs
    into the parquet file, so kept there a note would make the same rows other bytes - a new object, downstream
    keys moved, early cutoff lost - and put words into data. Two builds under two keys with the same rows and
    different notes make one object, and its file holds no attrs."""
    import pyarrow.parquet as pq

    settings = settings_for()
    first = _own(settings, Stage(name="noted", func=noted, doc="two rows and a note")).build("noted", DAY)
    again = _own(settings, Stage(name="noted", func=noted, doc="two rows and a note", version="2")).build("noted", DAY)
    assert again.key != first.key and again.object == first.object and not again.created
    data = Path(_own(settings, Stage(name="noted", func=noted, doc="")).store.object_dir(first.object)) / "data.parquet"
    assert pq.read_table(data).to_pandas().attrs == {}


def test_a_stage_reading_as_of_must_depend_on_the_clock_stage(settings_for) -> None:
    schedule = Stage(name="schedule", func=clock, doc="the clock")
    with pytest.raises(ValueError, match="stage late uses as_of but does not depend on schedule"):
        _own(settings_for(), schedule, Stage(name="late", func=late, doc="reads as_of", uses_as_of=True))
    _own(settings_for(), schedule, Stage(name="late", func=lambda schedule, *, params, ctx: late(params=params,
                                                                                               ctx=ctx),
                                         doc="reads as_of", inputs=("schedule",), uses_as_of=True))


def test_a_stage_raising_its_own_exception_is_recorded_with_its_type(settings_for) -> None:
    from projections.errors import StageError

    settings = settings_for()
    engine = _own(settings, Stage(name="broken", func=broken, doc="raises"))
    with pytest.raises(StageError) as raised:
        engine.build("broken", DAY)
    assert str(raised.value).startswith(f"broken {DAY}: the stage function raised ValueError: no rows for this date")
    assert "fix the stage in " in str(raised.value) and "(nothing was published)" in str(raised.value)
    failures = [e for e in ledger_events(settings.home) if e["event"] == "stage_failure"]
    assert [(e["stage"], e["error"], e["error_type"]) for e in failures] == [
        ("broken", "ValueError: no rows for this date", "ValueError")]  # one line, the type named


def test_a_stage_reading_as_of_without_declaring_it_fails_and_commits_nothing(settings_for) -> None:
    """as_of enters only the key of a stage declaring uses_as_of (projections.plan.action_key): one that read it
    undeclared would keep its key while the instant moved, and a later as_of would reuse an earlier answer. Its
    read is refused, the build fails naming the stage and the fix, and nothing is committed."""
    from projections.errors import StageError

    settings = settings_for()
    schedule = Stage(name="schedule", func=clock, doc="the clock")
    undeclared = Stage(name="late", func=lambda schedule, *, params, ctx: late(params=params, ctx=ctx),
                       doc="reads as_of undeclared", inputs=("schedule",))
    engine = _own(settings, schedule, undeclared)
    engine.build("schedule", DAY)
    with pytest.raises(StageError, match=r"stage late reads ctx\.as_of but does not declare uses_as_of=True"):
        engine.build("late", DAY)
    assert [e["stage"] for e in ledger_events(settings.home) if e["event"] == "stage_success"] == ["schedule"]
    assert [e["stage"] for e in ledger_events(settings.home) if e["event"] == "stage_failure"] == ["late"]
    assert len(list(engine.store.iter_objects())) == 1  # the schedule's: nothing of the refused build


class _Feed:
    """A source whose newest capture the test sets: a live fetch that lands while a run is going on."""

    name = "feed"

    def __init__(self) -> None:
        self.capture = "morning"

    def resolve(self, env: Any, game_date: dt.date, as_of: dt.datetime | None) -> Any:
        from projections.hashing import digest_bytes
        from projections.pipeline import Resolved

        capture = self.capture
        return Resolved(digest=digest_bytes(capture.encode()), describe=f"the {capture} capture",
                        load=lambda: pd.DataFrame({"capture": [capture]}))


def fed(feed: pd.DataFrame, *, params: Any, ctx: StageContext) -> pd.DataFrame:
    return feed


@pytest.mark.parametrize("mode, stale_after_new_capture", [("live", True), ("archive", False)])
def test_a_live_engine_sees_a_capture_that_lands_after_it_found_a_stage_up_to_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, stale_after_new_capture: bool
) -> None:
    """Live snapshots arrive mid-run (doit checks each task's uptodate on its own, after the fetch tasks ran): a
    live engine plans afresh every time, so a stage found up to date on the morning capture is stale once the
    evening one is there. Only archive mode, whose sources cannot change under a run, keeps an up-to-date plan
    for the rest of the process (it spares each check planning its whole upstream chain again)."""
    from projections.settings import load_settings

    feed = _Feed()
    with like_a_doit_child(monkeypatch):
        settings = load_settings(home=tmp_path / "home", source=mode)
        engine = _own(settings, Stage(name="fed", func=fed, doc="the feed as captured", sources=(feed,)))
        morning = engine.build("fed", DAY)
        assert engine.plan("fed", DAY).up_to_date
        feed.capture = "evening"
        plan = engine.plan("fed", DAY)
    assert plan.up_to_date is not stale_after_new_capture, plan
    if stale_after_new_capture:
        assert plan.key != morning.key and plan.inputs["feed"] == feed.resolve(None, DAY, None).digest
