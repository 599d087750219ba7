"""`projections verify`: rehash every object; check every gold pointer and action record."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("verify", help="rehash every object; check every gold pointer and action record",
                       description=__doc__)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from projections.commands._edge import failed, no_root
    from projections.settings import load_settings
    from projections.statcache import StatCache
    from projections.store import LocalStore
    from projections.verify import verify

    settings = load_settings()
    if (missing := no_root(settings.home)) is not None:  # a typo'd PROJECTIONS_HOME must not read as a healthy root
        return failed(args, missing, 1)
    store = LocalStore(settings.home, stat_cache=StatCache(None))
    publishers, why = _publishers(settings)
    report = verify(store, publishers=publishers)
    report.problems.extend(_lost_pointers(store, settings.home))
    if why:
        report.notes.append(why)
    if args.json:
        print(json.dumps({"ok": report.ok, "objects": report.objects, "pointers": report.pointers,
                          "actions": report.actions, "problems": report.problems, "notes": report.notes}))
    else:
        for problem in report.problems:
            print(f"PROBLEM  {problem}")
        for note in report.notes:
            print(f"note     {note}")
        verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        print(f"verified {report.objects} objects, {report.pointers} gold pointers, {report.actions} action "
              f"records in {settings.home}: {verdict}")
    return 0 if report.ok else 1


def _lost_pointers(store: Any, home: Any) -> list[str]:
    """Gold pointers the ledger saw moved that are gone (deleted by hand): the date's slate is no longer
    published, which nothing else would say."""
    import os

    from projections.observe.events import Events

    moved = {(str(e.get("asset")), str(e.get("game_date"))) for e in Events.read(home).all
             if e.get("event") == "publish" and e.get("asset") and e.get("game_date")}
    return [f"gold pointer {asset} {day} is gone (the ledger records its publish): the date's slate is no longer "
            f"published; `doit slate date={day}` publishes it again" for asset, day in sorted(moved)
            if not os.path.lexists(store.pointer_path(asset, day))]


def _publishers(settings: Any) -> tuple[dict[str, list[str]] | None, str]:
    """asset -> the stages that publish it, from the pipeline in settings (a gold pointer must name an object
    one of them produced for its date); without a loadable pipeline, only the pointer's date is checked."""
    from projections import fastpath
    from projections.errors import ProjectionsError
    from projections.wiring import load_pipeline

    try:
        pipeline = fastpath.pipeline(settings.pipeline, settings.params, load_pipeline)
    except ProjectionsError as exc:
        return None, (f"cannot load the pipeline ({exc}): gold pointers were checked against their dates only, "
                      "not against the stage that publishes them")
    out: dict[str, list[str]] = {}
    for stage in pipeline.published:
        assert stage.publish is not None
        out.setdefault(stage.publish, []).append(stage.name)
    return out, ""
