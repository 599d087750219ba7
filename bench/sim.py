"""The simulation stage on a 12-game slate: 10,000 draws per player, vectorised (target: under 2 s).

Builds the slate's inputs once, then times the stage function alone, several times.

    python bench/sim.py [--date 2020-01-22] [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from common import doit, emit, env_for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--date", default="2020-01-22", help="a slate date (2020-01-22 has 12 games)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as tmp:
        home = Path(tmp) / "home"
        doit(home, "sim", f"date={args.date}")
        os.environ.update(env_for(home))
        import datetime as dt

        from projections.pipeline import StageContext
        from projections.stage_io import load_inputs
        from projections.wiring import make_engine

        engine = make_engine()
        day = dt.date.fromisoformat(args.date)
        plan = engine.plan("sim", day)
        stage = engine.pipeline["sim"]
        frames = load_inputs(engine.pipeline, engine.store, plan)
        params = stage.params_model()(**plan.params)
        ctx = StageContext(stage="sim", seed=1, key=plan.key or "", season="", _game_date=day)
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            out = stage.func(**frames, params=params, ctx=ctx)
            times.append(time.perf_counter() - start)
        games = engine.plan("schedule", day).record["rows"]  # type: ignore[index]
    emit("sim", {"date": args.date, "games": games, "players": len(out), "draws": params.draws,
                 "median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3), "runs": args.runs})


if __name__ == "__main__":
    main()
