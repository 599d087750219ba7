"""Evaluate published slates against the real box scores: `python -m projections.evaluate A..B --json`.

For every date, the gold object (`gold/projections/game_date=D/projections.parquet`) is joined to the
box scores of D - the archive's, else those of the newest game-log capture of D's season (a live season: so a
daily user evaluates the season so far); the rows are the slate's players who played (minutes > 0) and have a
baseline. The baseline is each player's average over his last 10 games of the season before D. Reported overall
and per tier (the slate's `tier`): MAE, RMSE and bias (projection - actual) of minutes and DK points for the model
and the baseline, the share of actual DK points inside [p10, p90] and [p25, p75], and the change in MAE
against the baseline on the same rows with a standard error clustered by date, and what the DK MAE would have
been had the minutes been right (`dk_mae_at_real_minutes`: points per projected minute times real minutes, for
the model and the baseline; the distance to dk_mae is what the minutes cost). `lineup_modes` counts the rows
per lineup case (confirmed starters or none) and `injury_report_dates` the evaluated dates for which the archive
or a capture holds an official injury report (without one, a slate built without lineups knows nothing of the
date's news).

Dates without NBA games, or without DraftKings salaries in the archive or a capture (no slate), are skipped
and listed; a date with games and salaries but no gold slate is an error that names the dates and the command
to build them; a date whose box scores are in neither is skipped and listed.
`evaluate()` is the library call; `add_arguments(parser)` / `run(args)` wire it as a CLI subcommand.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from projections.archive import SHIPPED, parts
from projections.commands._edge import failed
from projections.dates import parse_dates, season_of
from projections.errors import ConfigError, ProjectionsError
from projections.evaluate_baseline import BASELINE_GAMES, baseline

ASSET = "projections"
NEEDED = ("player_id", "proj_minutes", "dk_mean", "dk_p10", "dk_p25", "dk_p75", "dk_p90")


class EvaluationError(ProjectionsError):
    """Nothing to evaluate, or slates that must be built first."""


def _archive_table(home: Path, table: str, seasons: set[str], columns: Sequence[str] | None = None, *,
                   shipped: Path = SHIPPED) -> Any:
    import pandas as pd
    import pyarrow.parquet as pq

    frames = [pq.read_table(p.path, columns=list(columns) if columns else None).to_pandas()
              for p in parts(home, table, shipped=shipped) if set(p.seasons) & seasons]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns or ()))


def _captured_days(home: Path, table: str, dates: list[dt.date]) -> set[dt.date]:
    """The dates whose newest capture of `table` has rows (a live root's schedule, salaries, injury reports)."""
    from projections.sources import snapshots

    return {d for d in dates if (found := snapshots.entries(home, table, d)) and found[-1].rows > 0}


def _captured_logs(home: Path, seasons: set[str], columns: Sequence[str]) -> Any:
    """Each season's newest game-log capture: a live root's box scores (a capture holds its season to date)."""
    import pandas as pd

    from projections.sources import snapshots

    newest: dict[str, snapshots.Entry] = {}
    for day in snapshots.dates(home, "player_logs"):
        season = season_of(day)
        found = snapshots.entries(home, "player_logs", day) if season in seasons else []
        if found and (season not in newest or found[-1].captured_at > newest[season].captured_at):
            newest[season] = found[-1]
    frames = [pd.read_parquet(snapshots.data_path(home, entry), columns=list(columns)) for entry in newest.values()]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns))


def _box_scores(home: Path, archive_home: Path, seasons: set[str], shipped: Path) -> Any:
    """The box scores of `seasons`: the archive's, then the live captures' games it lacks. An empty frame (no
    live capture) holds object columns: concatenated, it made minutes and DK points objects, and each groupby
    mean of the baseline a Python loop over the players (19 s of a season's 20)."""
    import pandas as pd

    columns = ("season", "game_date", "player_id", "minutes", "dk_points")
    found = [_archive_table(archive_home, "player_logs", seasons, columns, shipped=shipped),
             _captured_logs(home, seasons, columns)]
    logs = pd.concat([f for f in found if len(f)] or found[:1], ignore_index=True)
    return logs.drop_duplicates(["game_date", "player_id"], keep="first")  # the archive's line where both have one


def _gold_path(home: Path, day: dt.date) -> Path:
    return home / "gold" / ASSET / f"game_date={day.isoformat()}" / "projections.parquet"


def _read_gold(home: Path, day: dt.date) -> Any:
    """The gold slate of `day`, its object verified first: a damaged one (a flipped byte reads as other numbers,
    a truncated file not at all) is an EvaluationError naming the fix, never a traceback or a wrong figure."""
    import pandas as pd

    from projections.observe.slatediff import gold_problem
    from projections.store import LocalStore

    store = LocalStore(home)
    try:
        obj = store.read_pointer(ASSET, day.isoformat())
        wrong = gold_problem(store, obj, day.isoformat()) if obj else "the pointer names no object"
        problems = [wrong] if wrong else []
    except ProjectionsError as exc:
        problems = [str(exc)]
    if not problems:
        try:
            return pd.read_parquet(_gold_path(home, day))
        except (OSError, ValueError) as exc:
            problems = [f"unreadable ({exc})"]
    raise EvaluationError(f"the gold slate of {day} is damaged or not its own ({problems[0]}); rebuild it with "
                          f"`PROJECTIONS_HOME={home} doit slate date={day}` (`projections verify` lists all damage)")


def _clustered_change(model_err: Any, base_err: Any, clusters: Any) -> dict[str, float]:
    """Mean of |model error| - |baseline error| with a standard error clustered by `clusters` (dates)."""
    import numpy as np
    import pandas as pd

    diff = np.abs(np.asarray(model_err, dtype=float)) - np.abs(np.asarray(base_err, dtype=float))
    n = len(diff)
    if n == 0:
        return {"change": float("nan"), "change_se": float("nan"), "change_pct": float("nan")}
    mean = float(diff.mean())
    sums = pd.Series(diff - mean).groupby(np.asarray(clusters)).sum().to_numpy()
    g = len(sums)
    se = float(np.sqrt(g / (g - 1) * np.sum(sums ** 2)) / n) if g > 1 else float("nan")
    base_mae = float(np.abs(np.asarray(base_err, dtype=float)).mean())
    return {"change": mean, "change_se": se, "change_pct": 100.0 * mean / base_mae if base_mae else float("nan")}


def _metrics(rows: Any) -> dict[str, Any]:
    import numpy as np

    if len(rows) == 0:
        return {"players": 0}
    e_min = rows["proj_minutes"] - rows["minutes"]
    b_min = rows["baseline_minutes"] - rows["minutes"]
    e_dk = rows["dk_mean"] - rows["dk_points"]
    b_dk = rows["baseline_dk"] - rows["dk_points"]
    actual = rows["dk_points"]
    dk_change = _clustered_change(e_dk, b_dk, rows["game_date"])
    min_change = _clustered_change(e_min, b_min, rows["game_date"])

    def rmse(e: Any) -> float:
        return float(np.sqrt(np.mean(np.square(e))))

    return {
        "players": len(rows),
        "n_dates": int(rows["game_date"].nunique()),
        "minutes_mae": float(e_min.abs().mean()), "baseline_minutes_mae": float(b_min.abs().mean()),
        "minutes_rmse": rmse(e_min), "baseline_minutes_rmse": rmse(b_min),
        "minutes_bias": float(e_min.mean()), "baseline_minutes_bias": float(b_min.mean()),
        "minutes_mae_change": min_change["change"], "minutes_mae_change_se": min_change["change_se"],
        "minutes_mae_change_pct": min_change["change_pct"],
        "dk_mae": float(e_dk.abs().mean()), "baseline_dk_mae": float(b_dk.abs().mean()),
        "dk_rmse": rmse(e_dk), "baseline_dk_rmse": rmse(b_dk),
        "dk_bias": float(e_dk.mean()), "baseline_dk_bias": float(b_dk.mean()),
        "dk_mae_change": dk_change["change"], "dk_mae_change_se": dk_change["change_se"],
        "dk_mae_change_pct": dk_change["change_pct"],
        "dk_p50_mae": float((rows["dk_p50"] - actual).abs().mean()) if "dk_p50" in rows else None,
        "dk_mae_at_real_minutes": _at_real_minutes(rows, "proj_minutes", "dk_mean"),
        "baseline_dk_mae_at_real_minutes": _at_real_minutes(rows, "baseline_minutes", "baseline_dk"),
        "coverage_p10_p90": float(((actual >= rows["dk_p10"]) & (actual <= rows["dk_p90"])).mean()),
        "coverage_p25_p75": float(((actual >= rows["dk_p25"]) & (actual <= rows["dk_p75"])).mean()),
    }


def _at_real_minutes(rows: Any, minutes: str, points: str) -> float | None:
    """DK MAE with each player's projected points per projected minute (`points` / `minutes`: dk_mean /
    proj_minutes for the model, the last-10 means for the baseline) times the minutes he really played: what the
    DK error would have been had the minutes been right, so dk_mae minus this is the part the minutes cost. Over
    the rows with projected minutes (a player ruled out has no rate); None when there are none."""
    rated = rows[rows[minutes] > 0]
    if len(rated) == 0:
        return None
    per_minute = rated[points] / rated[minutes]
    return float((per_minute * rated["minutes"] - rated["dk_points"]).abs().mean())


def evaluate(home: Path, dates: list[dt.date], *, archive_home: Path | None = None,
             skip_unbuilt: bool = False, shipped: Path = SHIPPED) -> dict[str, Any]:
    """Evaluate the gold slates of `dates` under the data root `home` against the archive's box scores
    (shipped parts, plus parts ingested under `archive_home`, default `home`), and those of the game logs the
    live runs of `home` captured (a live season the archive lacks: each season's newest capture).

    Raises EvaluationError naming the dates that have games but no gold slate (and how to build them) unless
    `skip_unbuilt` (then they are skipped and listed), or when no date is left to evaluate."""
    import pandas as pd

    archive_home = archive_home or home
    seasons = {season_of(d) for d in dates}
    schedule = _archive_table(archive_home, "schedule", seasons, ("game_date", "status"), shipped=shipped)
    game_days = set(schedule.loc[schedule["status"] != "postponed", "game_date"])
    game_days |= _captured_days(home, "schedule", dates)
    slate_days = set(_archive_table(archive_home, "salaries", seasons, ("game_date",), shipped=shipped)["game_date"])
    slate_days |= _captured_days(home, "salaries", dates)
    no_games = [d for d in dates if d not in game_days]
    # a date with games but no DraftKings salaries cannot be built (unless a slate was built from an inbox file)
    no_slate = [d for d in dates if d in game_days and d not in slate_days and not _gold_path(home, d).exists()]
    with_games = [d for d in dates if d in game_days and d not in no_slate]
    missing = [d for d in with_games if not _gold_path(home, d).exists()]
    if missing and skip_unbuilt:
        with_games = [d for d in with_games if d not in missing]
        if not with_games:
            raise EvaluationError(f"none of the {len(dates)} date(s) has a gold slate under {home} ({len(missing)} "
                                  f"with games skipped as unbuilt); build them first with `PROJECTIONS_HOME={home} "
                                  f"doit -n 2 slate date={_spec(missing)}`")
    elif missing:
        shown = ", ".join(d.isoformat() for d in missing[:10]) + (" ..." if len(missing) > 10 else "")
        spec = _spec(missing)
        raise EvaluationError(
            f"{len(missing)} date(s) have NBA games but no gold slate under {home}: {shown}; build them first with "
            f"`PROJECTIONS_HOME={home} doit -n 2 slate date={spec}` (or pass --skip-unbuilt to evaluate the others)")
    log_seasons = seasons | {season_of(d - dt.timedelta(days=1)) for d in dates}
    logs = _box_scores(home, archive_home, log_seasons, shipped)
    played_days = set(logs["game_date"])
    no_box = [d for d in with_games if d not in played_days]
    days = [d for d in with_games if d in played_days]
    if not days:
        from projections.archive import parts
        from projections.archive_calendar import Calendar

        cal = Calendar.of(archive_home)
        boxed = {s for p in parts(archive_home, "player_logs") for s in p.seasons}  # seasons with box scores
        offer = ", ".join(f"{s} ({lo}..{hi})" for s, (lo, hi) in sorted(cal.spans.items())
                          if cal.projectable(s) and s in boxed)
        raise EvaluationError(
            f"none of the {len(dates)} date(s) has games, DraftKings salaries and box scores in the archive or "
            "the live captures "
            f"(no games: {len(no_games)}, no DraftKings salaries: {len(no_slate)}, no box scores: {len(no_box)}); "
            f"pick dates of a season the archive can project and score ({offer or 'none'}) or ingest one with "
            "`projections ingest` (its box scores: `projections ingest game-logs`)")
    slates = []
    for day in days:
        slate = _read_gold(home, day)
        absent = [c for c in NEEDED if c not in slate.columns]
        if absent:
            raise EvaluationError(f"the gold slate of {day} lacks columns {absent}; rebuild it with "
                                  f"`PROJECTIONS_HOME={home} doit slate date={day}`")
        slate["game_date"] = day
        slates.append(slate)
    projected = pd.concat(slates, ignore_index=True)
    actual = logs[logs["game_date"].isin(days) & (logs["minutes"] > 0)]
    rows = projected.merge(actual[["game_date", "player_id", "minutes", "dk_points"]], on=["game_date", "player_id"])
    rows = rows.merge(baseline(logs, days), on=["game_date", "player_id"], how="left")
    with_base = rows.dropna(subset=["baseline_minutes", "baseline_dk"])
    result: dict[str, Any] = {
        "dates": [d.isoformat() for d in days],
        "skipped_no_games": [d.isoformat() for d in no_games],
        "skipped_no_salaries": [d.isoformat() for d in no_slate],
        "skipped_no_box_scores": [d.isoformat() for d in no_box],
        "skipped_no_gold": [d.isoformat() for d in missing] if skip_unbuilt else [],
        "played_not_on_slate": int(len(actual) - len(rows)),
        "played_without_baseline": int(len(rows) - len(with_base)),
        "baseline": f"each player's mean over his last {BASELINE_GAMES} games of the season before the date",
        "bias_sign": "projection - actual (positive = projected too high)",
        **_metrics(with_base),
    }
    if "tier" in with_base:
        result["tiers"] = {str(t): _metrics(g) for t, g in with_base.groupby("tier", sort=True)}
    if "mode" in with_base:
        result["lineup_modes"] = {str(m): int(n) for m, n in with_base["mode"].value_counts().sort_index().items()}
    reports = _archive_table(archive_home, "injuries", seasons, ("game_date",), shipped=shipped)
    result["injury_report_dates"] = len(set(days) & (set(reports["game_date"]) | _captured_days(home, "injuries",
                                                                                                 days)))
    return result


def _spec(days: list[dt.date]) -> str:
    """A date= value naming `days`: a list of up to three, else their span."""
    return ",".join(d.isoformat() for d in days) if len(days) <= 3 else f"{days[0].isoformat()}..{days[-1].isoformat()}"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dates", help="YYYY-MM-DD, a range A..B or a comma list (e.g. 2019-11-01..2019-11-30)")
    parser.add_argument("--json", action="store_true", help="print one JSON object (default: a short table)")
    parser.add_argument("--skip-unbuilt", action="store_true",
                        help="evaluate the dates that have a gold slate and list the others (default: refuse)")
    parser.add_argument("--home", type=Path, default=None,
                        help="data root holding the gold slates (default: PROJECTIONS_HOME / settings)")


def _format(result: dict[str, Any]) -> str:
    lines = [f"{len(result['dates'])} dates, {result['players']} player games (played, with a baseline)"]
    for key, why in (("skipped_no_gold", "with games but no gold slate"), ("skipped_no_games", "without games"),
                     ("skipped_no_salaries", "without DraftKings salaries"),
                     ("skipped_no_box_scores", "without box scores yet")):
        if result.get(key):
            days = result[key]
            lines.append(f"  skipped {len(days)} date(s) {why}: {', '.join(days[:10])}" + (" ..." if len(days) > 10
                                                                                           else ""))
    aside = [f"{result[k]} {what}" for k, what in (("played_not_on_slate", "played but were not on the slate"),
                                                    ("played_without_baseline", "played without a baseline (no "
                                                                                "earlier game this season)"))
             if result.get(k)]
    if aside:
        lines.append(f"  not counted: {'; '.join(aside)}")
    for label, prefix in (("minutes MAE", "minutes"), ("DK MAE", "dk")):
        lines.append(f"  {label:<12} model {result[f'{prefix}_mae']:.3f}  "
                     f"baseline {result[f'baseline_{prefix}_mae']:.3f}"
                     f"  change {result[f'{prefix}_mae_change']:+.3f} (se {_se(result[f'{prefix}_mae_change_se'])}, "
                     f"{result[f'{prefix}_mae_change_pct']:+.1f}%)")
    right, base_right = result.get("dk_mae_at_real_minutes"), result.get("baseline_dk_mae_at_real_minutes")
    if right is not None and base_right is not None:
        lines.append(f"  DK MAE had the minutes been right (points per projected minute x real minutes): model "
                     f"{right:.3f}  baseline {base_right:.3f}")
    lines.append(f"  DK bias {result['dk_bias']:+.3f}  RMSE {result['dk_rmse']:.3f}  coverage p10-p90 "
                 f"{result['coverage_p10_p90']:.3f}  p25-p75 {result['coverage_p25_p75']:.3f}")
    for tier, m in result.get("tiers", {}).items():
        if m.get("players"):
            lines.append(f"  tier {tier:<9} n={m['players']:<5} min MAE {m['minutes_mae']:.3f} DK MAE {m['dk_mae']:.3f}"
                         f" (base {m['baseline_dk_mae']:.3f}) bias {m['dk_bias']:+.3f} p10-p90 "
                         f"{m['coverage_p10_p90']:.3f} p25-p75 {m['coverage_p25_p75']:.3f}")
    return "\n".join(lines)


def _se(value: float) -> str:
    """A standard error for people: "n/a" over a single date (a date-clustered SE needs two dates)."""
    import math

    return f"{value:.3f}" if math.isfinite(value) else "n/a: one date"


def _finite(value: Any) -> Any:
    """The result with NaN/inf as null (JSON has no NaN)."""
    import math

    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def run(args: argparse.Namespace) -> int:
    """Exit 0 with the report; 1 when slates are missing or nothing can be evaluated; 2 on bad arguments."""
    try:
        dates = parse_dates(args.dates)
        home = args.home
        if home is not None and not Path(home).is_dir():  # a typo: no "build them first" into it
            what = "is a file, not a directory" if Path(home).exists() else "does not exist"
            raise ConfigError(f"--home {home} {what}; give the data root the slates were built in (the "
                              "PROJECTIONS_HOME of `doit slate`), or leave --home out to use the settings' one")
        if home is None:
            from projections.settings import load_settings

            home = load_settings().home
        result = evaluate(Path(home), dates, skip_unbuilt=args.skip_unbuilt)
    except EvaluationError as exc:
        return failed(args, str(exc), 1)
    except ProjectionsError as exc:
        return failed(args, str(exc), 2)
    print(json.dumps(_finite(result), sort_keys=True, allow_nan=False) if args.json else _format(result))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m projections.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
