"""In live mode a plan is never settled for the rest of the process: a snapshot captured mid-run (the fetch
tasks of a `doit` run come before the stages that read them, all in one process) makes the stage stale at
once. Archive mode keeps an up-to-date plan, since its sources cannot change under a run."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.conftest import like_a_doit_child
from tests.net.faultserver import FaultServer
from tests.sources import payloads

DAY = dt.date(2019, 10, 30)
SCOREBOARD = "/stats/scoreboardv3"


def test_a_new_live_capture_makes_an_up_to_date_stage_stale_in_the_same_process(
        tmp_path: Path, server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from projections import live_fetch
    from projections.settings import load_settings
    from projections.wiring import make_engine

    live = {"stats_base": server.url("/stats"), "cdn_base": server.url("/cdn"), "min_interval_s": 0,
            "host_intervals": {}, "max_attempts": 2, "base_wait_s": 0.01, "max_wait_s": 0.05,
            "read_timeout_s": 20.0, "now": f"{DAY}T20:00:00Z"}
    with like_a_doit_child(monkeypatch):
        server.replay(SCOREBOARD, payloads.scoreboard(DAY))
        engine = make_engine(load_settings(home=tmp_path / "home", source="live", live=live))
        live_fetch.fetch(engine, "schedule", DAY)
        built = engine.build("schedule", DAY)
        before = engine.plan("schedule", DAY)
        assert before.up_to_date and before.key == built.key

        body = json.loads(payloads.scoreboard(DAY))
        body["scoreboard"]["games"][-1]["gameTimeUTC"] = "2019-10-31T03:00:00Z"  # the late game moved back 30 min
        server.replay(SCOREBOARD, json.dumps(body).encode())
        engine.now = dt.datetime(2019, 10, 30, 21, 0, tzinfo=dt.UTC)  # an hour later, the same process
        assert live_fetch.fetch(engine, "schedule", DAY)["changed"] is True

        after = engine.plan("schedule", DAY)  # as doit's check of the stage asks it: not fresh
        assert after.key != built.key and not after.up_to_date, after.reason
        assert after.reason == "no object for its key (new inputs, params or code)"
        again = engine.build("schedule", DAY)
        assert again.built and again.key == after.key
