"""A Dask worker's ledger events reach the front end's ledger once: written there by a worker on the same data
root (a LocalCluster's), copied from a worker with its own root. A failed build's were copied from both."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

from projections.executors.cluster import ClusterRun
from projections.executors.worker import build_stage, payload
from projections.settings import load_settings
from projections.wiring import make_engine
from tests.conftest import FIXTURE_DATE, ledger_events, like_a_doit_child


@pytest.mark.parametrize("same_root", [True, False])
def test_a_failed_build_s_events_are_in_the_front_end_s_ledger_once(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    same_root: bool) -> None:
    with like_a_doit_child(monkeypatch):
        front = make_engine(load_settings(home=tmp_path / "front"), run=f"r-{same_root}")
        worker_home = tmp_path / ("front" if same_root else "worker")
        monkeypatch.setenv("PROJECTIONS_HOME", str(worker_home))
        job = payload(front.settings, run=front.ledger.run, code_versions={})
        outcome = build_stage(job, "gold", FIXTURE_DATE, None)  # its inputs are not built: a failure
        assert not outcome["ok"] and "is not built" in outcome["error"], outcome
        ClusterRun._copy_events(SimpleNamespace(engine=front), outcome)  # type: ignore[arg-type]
    failures = [e for e in ledger_events(tmp_path / "front") if e["event"] == "stage_failure"]
    assert len(failures) == 1, failures
    assert failures[0]["stage"] == "gold" and failures[0]["game_date"] == FIXTURE_DATE
    assert ("copied_from" in failures[0]) is not same_root


def test_a_worker_records_its_gold_pointer_moves_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The publisher kept the ledger the engine was made with, so a worker's `publish` events were written but
    never recorded: a worker with its own root sent the front end its builds without their pointer moves."""
    from projections.executors.worker import RecordingLedger, worker_engine

    with like_a_doit_child(monkeypatch):
        monkeypatch.setenv("PROJECTIONS_HOME", str(tmp_path / "worker"))
        job = payload(load_settings(home=tmp_path / "front"), run="moves", code_versions={})
        engine = worker_engine(job)
        engine.ensure_layout()
        obj = engine.store.commit({"data.parquet": b"rows"}, {"stage": "gold"}).object
        assert engine.publisher.publish("gold", "projections", dt.date.fromisoformat(FIXTURE_DATE), obj, key=None)
    assert isinstance(engine.ledger, RecordingLedger)
    assert [e["event"] for e in engine.ledger.drain()] == ["publish"]  # what the front end is sent
